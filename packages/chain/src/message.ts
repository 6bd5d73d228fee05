// Chain messages (lotus chain/types Message and SignedMessage): their CBOR tuples, CIDs, signing,
// and the JSON Lotus' API speaks.
import { blake2b } from '@noble/hashes/blake2.js'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { type Address, addressToBytes, formatAddress, parseAddress } from './address.ts'
import { encodeBigIntBytes } from './big-int.ts'
import {
  checkRange,
  decodeCbor,
  encodeCbor,
  readAddress,
  readBytes,
  readInt64,
  readSignature,
  readTokenAmount,
  readTuple,
  readUint64
} from './cbor.ts'
import { MalformedChainDataError } from './errors.ts'
import { jsonInt } from './json.ts'
import { type Signature, SignatureType, sign, signatureToBytes } from './keys.ts'

/** An unsigned chain message. Amounts are attoFIL. */
export interface Message {
  version: 0
  to: Address
  from: Address
  nonce: bigint
  value: bigint
  gasLimit: bigint
  gasFeeCap: bigint
  gasPremium: bigint
  method: bigint
  params: Uint8Array
}

export interface SignedMessage {
  message: Message
  signature: Signature
}

const DAG_CBOR = 0x71
const BLAKE2B_256 = 0xb220

/** CIDv1, dag-cbor, blake2b-256: how the chain names messages and blocks. */
export function chainCid(bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR, createDigest(BLAKE2B_256, blake2b(bytes, { dkLen: 32 })))
}

function messageTuple(m: Message): unknown[] {
  if (m.version !== 0) throw new MalformedChainDataError(`message version ${m.version} is not 0`)
  return [
    0,
    addressToBytes(m.to),
    addressToBytes(m.from),
    checkRange(m.nonce, 'uint64', 'message nonce'),
    encodeBigIntBytes(m.value),
    checkRange(m.gasLimit, 'int64', 'message gasLimit'),
    encodeBigIntBytes(m.gasFeeCap),
    encodeBigIntBytes(m.gasPremium),
    checkRange(m.method, 'uint64', 'message method'),
    m.params
  ]
}

function messageFromTuple(value: unknown, where: string): Message {
  const t = readTuple(value, 10, where)
  const version = readUint64(t[0], `${where} Version`)
  if (version !== 0n) throw new MalformedChainDataError(`${where}: version ${version} is not 0`)
  return {
    version: 0,
    to: readAddress(t[1], `${where} To`),
    from: readAddress(t[2], `${where} From`),
    nonce: readUint64(t[3], `${where} Nonce`),
    value: readTokenAmount(t[4], `${where} Value`),
    gasLimit: readInt64(t[5], `${where} GasLimit`),
    gasFeeCap: readTokenAmount(t[6], `${where} GasFeeCap`),
    gasPremium: readTokenAmount(t[7], `${where} GasPremium`),
    method: readUint64(t[8], `${where} Method`),
    params: readBytes(t[9], `${where} Params`)
  }
}

/** The message's CBOR (a 10-field tuple), as lotus serializes it. */
export function encodeMessage(m: Message): Uint8Array {
  return encodeCbor(messageTuple(m))
}

export function decodeMessage(bytes: Uint8Array): Message {
  return messageFromTuple(decodeCbor(bytes, 'message'), 'message')
}

/** The unsigned message's CID. */
export function messageCid(m: Message): CID {
  return chainCid(encodeMessage(m))
}

/** Signs a message with a secp256k1 key: the signature is over the message CID's bytes, as Lotus' wallet signs. */
export function signMessage(m: Message, privateKey: Uint8Array): SignedMessage {
  return { message: m, signature: sign(privateKey, messageCid(m).bytes) }
}

/** The signed message's CBOR: [message tuple, signature bytes]. */
export function encodeSignedMessage(sm: SignedMessage): Uint8Array {
  return encodeCbor([messageTuple(sm.message), signatureToBytes(sm.signature)])
}

export function decodeSignedMessage(bytes: Uint8Array): SignedMessage {
  const t = readTuple(decodeCbor(bytes, 'signed message'), 2, 'signed message')
  return {
    message: messageFromTuple(t[0], 'signed message Message'),
    signature: readSignature(t[1], 'signed message Signature')
  }
}

/** The CID the chain gives a signed message: of its CBOR for secp256k1, of the bare message for BLS. */
export function signedMessageCid(sm: SignedMessage): CID {
  if (sm.signature.type === SignatureType.BLS) return messageCid(sm.message)
  return chainCid(encodeSignedMessage(sm))
}

// ---- Lotus JSON ----

/** Message as Lotus' JSON API writes it. */
export interface LotusMessageJson {
  Version: number
  To: string
  From: string
  Nonce: number | bigint
  Value: string
  GasLimit: number | bigint
  GasFeeCap: string
  GasPremium: string
  Method: number | bigint
  Params: string | null
  CID?: { '/': string }
}

export interface LotusSignedMessageJson {
  Message: LotusMessageJson
  Signature: { Type: number; Data: string }
  CID?: { '/': string }
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const BIG_INT = /^-?[0-9]{1,80}$/

/** The message in Lotus' JSON form (big ints as decimal strings, Params base64, with its CID). */
export function messageToLotusJson(m: Message): LotusMessageJson {
  return {
    Version: m.version,
    To: formatAddress(m.to),
    From: formatAddress(m.from),
    Nonce: jsonInt(m.nonce),
    Value: m.value.toString(),
    GasLimit: jsonInt(m.gasLimit),
    GasFeeCap: m.gasFeeCap.toString(),
    GasPremium: m.gasPremium.toString(),
    Method: jsonInt(m.method),
    Params: m.params.length === 0 ? null : base64(m.params),
    CID: { '/': messageCid(m).toString() }
  }
}

export function jsonObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedChainDataError(`${where}: not a JSON object`)
  return value as Record<string, unknown>
}

/** A JSON integer (a number, or a bigint from parseLotusJson for one past 2^53). */
export function jsonInteger(value: unknown, where: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  if (typeof value === 'bigint') return value
  throw new MalformedChainDataError(`${where}: not an integer`)
}

/** A Lotus big-int string ("1000"); a JSON number is accepted too when it is an exact integer. */
export function jsonBigInt(value: unknown, where: string): bigint {
  if (typeof value === 'string' && BIG_INT.test(value)) return BigInt(value)
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  throw new MalformedChainDataError(`${where}: not a decimal integer string`)
}

export function jsonBytes(value: unknown, where: string): Uint8Array {
  if (value === null || value === undefined) return new Uint8Array(0)
  if (typeof value !== 'string' || !BASE64.test(value)) throw new MalformedChainDataError(`${where}: not base64`)
  return new Uint8Array(Buffer.from(value, 'base64'))
}

export function jsonAddress(value: unknown, where: string): Address {
  if (typeof value !== 'string') throw new MalformedChainDataError(`${where}: not an address string`)
  try {
    return parseAddress(value)
  } catch (cause) {
    throw new MalformedChainDataError(`${where}: ${(cause as Error).message}`, { cause })
  }
}

/** Reads a message from Lotus' JSON (a CID field, if present, is ignored as Lotus ignores it). */
export function messageFromLotusJson(json: unknown, where = 'message'): Message {
  const o = jsonObject(json, where)
  const version = jsonInteger(o.Version ?? 0, `${where} Version`)
  if (version !== 0n) throw new MalformedChainDataError(`${where}: version ${version} is not 0`)
  return {
    version: 0,
    to: jsonAddress(o.To, `${where} To`),
    from: jsonAddress(o.From, `${where} From`),
    nonce: checkRange(jsonInteger(o.Nonce, `${where} Nonce`), 'uint64', `${where} Nonce`),
    value: jsonBigInt(o.Value, `${where} Value`),
    gasLimit: checkRange(jsonInteger(o.GasLimit, `${where} GasLimit`), 'int64', `${where} GasLimit`),
    gasFeeCap: jsonBigInt(o.GasFeeCap, `${where} GasFeeCap`),
    gasPremium: jsonBigInt(o.GasPremium, `${where} GasPremium`),
    method: checkRange(jsonInteger(o.Method, `${where} Method`), 'uint64', `${where} Method`),
    params: jsonBytes(o.Params, `${where} Params`)
  }
}

export function signatureToLotusJson(signature: Signature): { Type: number; Data: string } {
  return { Type: signature.type, Data: base64(signature.data) }
}

export function signatureFromLotusJson(json: unknown, where: string): Signature {
  const o = jsonObject(json, where)
  const type = o.Type
  if (type !== 1 && type !== 2) throw new MalformedChainDataError(`${where}: Type ${String(type)} is not 1 or 2`)
  return readSignature(signatureToBytes({ type, data: jsonBytes(o.Data, `${where} Data`) }), where)
}

export function signedMessageToLotusJson(sm: SignedMessage): LotusSignedMessageJson {
  return {
    Message: messageToLotusJson(sm.message),
    Signature: signatureToLotusJson(sm.signature),
    CID: { '/': signedMessageCid(sm).toString() }
  }
}

export function signedMessageFromLotusJson(json: unknown, where = 'signed message'): SignedMessage {
  const o = jsonObject(json, where)
  return {
    message: messageFromLotusJson(o.Message, `${where} Message`),
    signature: signatureFromLotusJson(o.Signature, `${where} Signature`)
  }
}
