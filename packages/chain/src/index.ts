/**
 * @autoretrieve/chain: the Filecoin chain types a paying client needs, in the byte forms the Go
 * implementations use: addresses, secp256k1 keys and signatures as Lotus' wallet makes them,
 * Lotus KeyInfo export, messages and their CIDs, init/paych actor parameters, payment channel
 * vouchers, FIL amounts, and (its only I/O) a Lotus JSON-RPC client.
 */

export {
  BuiltinMethod,
  decodeExecReturn,
  decodeInitExecParams,
  decodePaychConstructorParams,
  decodeUpdateChannelStateParams,
  type ExecReturn,
  encodeExecReturn,
  encodeInitExecParams,
  encodePaychConstructorParams,
  encodeUpdateChannelStateParams,
  INIT_ACTOR,
  type InitExecParams,
  type PaychConstructorParams,
  type UpdateChannelStateParams
} from './actors.ts'
export {
  type Address,
  actorAddress,
  addressEquals,
  addressFromBytes,
  addressId,
  addressToBytes,
  formatAddress,
  idAddress,
  type Network,
  type Protocol,
  parseAddress
} from './address.ts'
export { formatFil, parseFil } from './amount.ts'
export { decodeBigIntBytes, encodeBigIntBytes } from './big-int.ts'
export {
  DEFAULT_LOTUS_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MESSAGE_CONFIDENCE,
  DEFAULT_WAIT_TIMEOUT_MS
} from './constants.ts'
export {
  InvalidAddressError,
  InvalidAmountError,
  InvalidBigIntBytesError,
  InvalidKeyError,
  LotusError,
  LotusResponseTooLargeError,
  MalformedChainDataError,
  MessageFailedError
} from './errors.ts'
export { parseLotusJson, stringifyLotusJson } from './json.ts'
export { decodeKeyInfoHex, encodeKeyInfoHex, type KeyInfo, keyInfoFromJson, keyInfoToJson } from './key-info.ts'
export {
  addressOfKey,
  generatePrivateKey,
  publicKeyOf,
  type Signature,
  SignatureType,
  sign,
  signatureFromBytes,
  signatureToBytes,
  verifySignature
} from './keys.ts'
export {
  createLotusClient,
  type LotusClient,
  type LotusClientInit,
  type MessageReceipt,
  type PartialMessage,
  type PaychState
} from './lotus-client.ts'
export {
  chainCid,
  decodeMessage,
  decodeSignedMessage,
  encodeMessage,
  encodeSignedMessage,
  type LotusMessageJson,
  type LotusSignedMessageJson,
  type Message,
  messageCid,
  messageFromLotusJson,
  messageToLotusJson,
  type SignedMessage,
  signatureFromLotusJson,
  signatureToLotusJson,
  signedMessageCid,
  signedMessageFromLotusJson,
  signedMessageToLotusJson,
  signMessage
} from './message.ts'
export {
  decodeSignedVoucher,
  encodeSignedVoucher,
  type LotusVoucherJson,
  laneVoucher,
  type SignedVoucher,
  signedVoucherFromLotusJson,
  signedVoucherFromNode,
  signedVoucherToLotusJson,
  signedVoucherToNode,
  signVoucher,
  type VoucherExtra,
  type VoucherMerge,
  verifyVoucher,
  voucherSigningBytes
} from './voucher.ts'
