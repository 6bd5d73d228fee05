// Payment channel vouchers (go-state-types builtin paych SignedVoucher): an 11-field cbor-gen
// tuple; the signed bytes are that tuple with the signature null.
import { type Address, addressToBytes } from './address.ts'
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
import { type Signature, sign, signatureToBytes, verifySignature } from './keys.ts'

/** A method the paych actor calls on another actor to validate a voucher (ModVerifyParams). */
export interface VoucherExtra {
  actor: Address
  method: bigint
  data: Uint8Array
}

export interface VoucherMerge {
  lane: bigint
  nonce: bigint
}

export interface SignedVoucher {
  channelAddr: Address
  timeLockMin: bigint
  timeLockMax: bigint
  secretHash: Uint8Array
  extra: null | VoucherExtra
  lane: bigint
  nonce: bigint
  /** Cumulative attoFIL redeemable on this lane. */
  amount: bigint
  minSettleHeight: bigint
  merges: VoucherMerge[]
  signature: Signature | null
}

// go-state-types refuses more merges than this when encoding or decoding.
const MAX_MERGES = 8192

/** The voucher as an IPLD data-model value (the tuple), for embedding in other DAG-CBOR (DealPayment). */
export function signedVoucherToNode(sv: SignedVoucher): unknown[] {
  if (sv.merges.length > MAX_MERGES) throw new MalformedChainDataError(`voucher has more than ${MAX_MERGES} merges`)
  return [
    addressToBytes(sv.channelAddr),
    checkRange(sv.timeLockMin, 'int64', 'voucher TimeLockMin'),
    checkRange(sv.timeLockMax, 'int64', 'voucher TimeLockMax'),
    sv.secretHash,
    sv.extra === null
      ? null
      : [addressToBytes(sv.extra.actor), checkRange(sv.extra.method, 'uint64', 'voucher Extra Method'), sv.extra.data],
    checkRange(sv.lane, 'uint64', 'voucher Lane'),
    checkRange(sv.nonce, 'uint64', 'voucher Nonce'),
    encodeBigIntBytes(sv.amount),
    checkRange(sv.minSettleHeight, 'int64', 'voucher MinSettleHeight'),
    sv.merges.map((m, i) => [
      checkRange(m.lane, 'uint64', `voucher Merges[${i}] Lane`),
      checkRange(m.nonce, 'uint64', `voucher Merges[${i}] Nonce`)
    ]),
    sv.signature === null ? null : signatureToBytes(sv.signature)
  ]
}

/** Reads the voucher tuple from an IPLD data-model value; throws MalformedChainDataError naming the field. */
export function signedVoucherFromNode(node: unknown, where = 'voucher'): SignedVoucher {
  const t = readTuple(node, 11, where)
  let extra: VoucherExtra | null = null
  if (t[4] !== null) {
    const e = readTuple(t[4], 3, `${where} Extra`)
    extra = {
      actor: readAddress(e[0], `${where} Extra Actor`),
      method: readUint64(e[1], `${where} Extra Method`),
      data: readBytes(e[2], `${where} Extra Data`)
    }
  }
  if (!Array.isArray(t[9])) throw new MalformedChainDataError(`${where} Merges: not an array`)
  if (t[9].length > MAX_MERGES) throw new MalformedChainDataError(`${where} Merges: more than ${MAX_MERGES}`)
  const merges = t[9].map((m, i) => {
    const pair = readTuple(m, 2, `${where} Merges[${i}]`)
    return {
      lane: readUint64(pair[0], `${where} Merges[${i}] Lane`),
      nonce: readUint64(pair[1], `${where} Merges[${i}] Nonce`)
    }
  })
  return {
    channelAddr: readAddress(t[0], `${where} ChannelAddr`),
    timeLockMin: readInt64(t[1], `${where} TimeLockMin`),
    timeLockMax: readInt64(t[2], `${where} TimeLockMax`),
    secretHash: readBytes(t[3], `${where} SecretHash`),
    extra,
    lane: readUint64(t[5], `${where} Lane`),
    nonce: readUint64(t[6], `${where} Nonce`),
    amount: readTokenAmount(t[7], `${where} Amount`),
    minSettleHeight: readInt64(t[8], `${where} MinSettleHeight`),
    merges,
    signature: t[10] === null ? null : readSignature(t[10], `${where} Signature`)
  }
}

export function encodeSignedVoucher(sv: SignedVoucher): Uint8Array {
  return encodeCbor(signedVoucherToNode(sv))
}

export function decodeSignedVoucher(bytes: Uint8Array): SignedVoucher {
  return signedVoucherFromNode(decodeCbor(bytes, 'voucher'))
}

/** The bytes a voucher's signature covers: its encoding with the signature null (SigningBytes in Go). */
export function voucherSigningBytes(sv: SignedVoucher): Uint8Array {
  return encodeSignedVoucher({ ...sv, signature: null })
}

/** The voucher signed by the channel's From key. */
export function signVoucher(sv: SignedVoucher, privateKey: Uint8Array): SignedVoucher {
  return { ...sv, signature: sign(privateKey, voucherSigningBytes(sv)) }
}

/** Whether the voucher carries a signature by `from` (the channel's From, as an f1 address). */
export function verifyVoucher(sv: SignedVoucher, from: Address): boolean {
  return sv.signature !== null && verifySignature(sv.signature, voucherSigningBytes(sv), from)
}
