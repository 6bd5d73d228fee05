// Payment channel vouchers (go-state-types builtin paych SignedVoucher): an 11-field cbor-gen
// tuple; the signed bytes are that tuple with the signature null.
import { type Address, addressToBytes, formatAddress } from './address.ts'
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
import { type Signature, sign, signatureToBytes, verifySignature } from './keys.ts'
import {
  jsonAddress,
  jsonBigInt,
  jsonBytes,
  jsonInteger,
  jsonObject,
  signatureFromLotusJson,
  signatureToLotusJson
} from './message.ts'

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

/**
 * A payment on one lane as a retrieval client makes it (data-transfer.md §8.5): no time locks,
 * secret, extra check or merges; `amount` is the lane's cumulative total. Unsigned: see signVoucher.
 */
export function laneVoucher(init: { channel: Address; lane: bigint; nonce: bigint; amount: bigint }): SignedVoucher {
  return {
    channelAddr: init.channel,
    timeLockMin: 0n,
    timeLockMax: 0n,
    secretHash: new Uint8Array(0),
    extra: null,
    lane: init.lane,
    nonce: init.nonce,
    amount: init.amount,
    minSettleHeight: 0n,
    merges: [],
    signature: null
  }
}

/** The voucher signed by the channel's From key. */
export function signVoucher(sv: SignedVoucher, privateKey: Uint8Array): SignedVoucher {
  return { ...sv, signature: sign(privateKey, voucherSigningBytes(sv)) }
}

/** Whether the voucher carries a signature by `from` (the channel's From, as an f1 address). */
export function verifyVoucher(sv: SignedVoucher, from: Address): boolean {
  return sv.signature !== null && verifySignature(sv.signature, voucherSigningBytes(sv), from)
}

// ---- Lotus JSON (go-state-types paych.SignedVoucher through encoding/json) ----

/** A voucher as Lotus' API passes it (PaychVoucherCheckValid, PaychVoucherSubmit…). */
export interface LotusVoucherJson {
  ChannelAddr: string
  TimeLockMin: number | bigint
  TimeLockMax: number | bigint
  SecretHash: string | null
  Extra: { Actor: string; Method: number | bigint; Data: string | null } | null
  Lane: number | bigint
  Nonce: number | bigint
  Amount: string
  MinSettleHeight: number | bigint
  Merges: { Lane: number | bigint; Nonce: number | bigint }[] | null
  Signature: { Type: number; Data: string } | null
}

// Go writes a nil []byte or slice as null, and cbor-gen decodes empty ones to nil.
const bytesOrNull = (b: Uint8Array): string | null => (b.length === 0 ? null : Buffer.from(b).toString('base64'))

/**
 * The voucher in Lotus' JSON. Integers past 2^53 are bigints here: send it with a serializer that
 * writes them as numbers (the Lotus client does).
 */
export function signedVoucherToLotusJson(sv: SignedVoucher): LotusVoucherJson {
  return {
    ChannelAddr: formatAddress(sv.channelAddr),
    TimeLockMin: jsonInt(sv.timeLockMin),
    TimeLockMax: jsonInt(sv.timeLockMax),
    SecretHash: bytesOrNull(sv.secretHash),
    Extra:
      sv.extra === null
        ? null
        : { Actor: formatAddress(sv.extra.actor), Method: jsonInt(sv.extra.method), Data: bytesOrNull(sv.extra.data) },
    Lane: jsonInt(sv.lane),
    Nonce: jsonInt(sv.nonce),
    Amount: sv.amount.toString(),
    MinSettleHeight: jsonInt(sv.minSettleHeight),
    Merges: sv.merges.length === 0 ? null : sv.merges.map((m) => ({ Lane: jsonInt(m.lane), Nonce: jsonInt(m.nonce) })),
    Signature: sv.signature === null ? null : signatureToLotusJson(sv.signature)
  }
}

/** Reads a voucher from Lotus' JSON (parse it with parseLotusJson to keep 64-bit lanes and nonces exact). */
export function signedVoucherFromLotusJson(json: unknown, where = 'voucher'): SignedVoucher {
  const o = jsonObject(json, where)
  const int64 = (v: unknown, field: string) =>
    checkRange(jsonInteger(v, `${where} ${field}`), 'int64', `${where} ${field}`)
  const uint64 = (v: unknown, field: string) =>
    checkRange(jsonInteger(v, `${where} ${field}`), 'uint64', `${where} ${field}`)
  let extra: VoucherExtra | null = null
  if (o.Extra !== null && o.Extra !== undefined) {
    const e = jsonObject(o.Extra, `${where} Extra`)
    extra = {
      actor: jsonAddress(e.Actor, `${where} Extra Actor`),
      method: uint64(e.Method, 'Extra Method'),
      data: jsonBytes(e.Data, `${where} Extra Data`)
    }
  }
  const merges = o.Merges ?? []
  if (!Array.isArray(merges) || merges.length > MAX_MERGES)
    throw new MalformedChainDataError(`${where} Merges: not an array of at most ${MAX_MERGES}`)
  return {
    channelAddr: jsonAddress(o.ChannelAddr, `${where} ChannelAddr`),
    timeLockMin: int64(o.TimeLockMin ?? 0, 'TimeLockMin'),
    timeLockMax: int64(o.TimeLockMax ?? 0, 'TimeLockMax'),
    secretHash: jsonBytes(o.SecretHash, `${where} SecretHash`),
    extra,
    lane: uint64(o.Lane, 'Lane'),
    nonce: uint64(o.Nonce, 'Nonce'),
    amount: jsonBigInt(o.Amount, `${where} Amount`),
    minSettleHeight: int64(o.MinSettleHeight ?? 0, 'MinSettleHeight'),
    merges: merges.map((m, i) => {
      const mo = jsonObject(m, `${where} Merges[${i}]`)
      return { lane: uint64(mo.Lane, `Merges[${i}] Lane`), nonce: uint64(mo.Nonce, `Merges[${i}] Nonce`) }
    }),
    signature:
      o.Signature === null || o.Signature === undefined
        ? null
        : signatureFromLotusJson(o.Signature, `${where} Signature`)
  }
}
