// A voucher in the JSON Lotus' API speaks (PaychVoucherCheckValid, PaychVoucherAdd, PaychVoucherCreate):
// go-state-types paych.SignedVoucher's Go field names, big ints as decimal strings, bytes base64.
import { formatAddress } from './address.ts'
import { MalformedChainDataError } from './errors.ts'
import { jsonAddress, jsonBigInt, jsonBytes, signatureFromLotusJson, signatureToLotusJson } from './message.ts'
import { type SignedVoucher, signedVoucherFromNode, signedVoucherToNode } from './voucher.ts'

export interface LotusVoucherJson {
  ChannelAddr: string
  TimeLockMin: number
  TimeLockMax: number
  SecretHash: string | null
  Extra: { Actor: string; Method: number; Data: string | null } | null
  Lane: number
  Nonce: number
  Amount: string
  MinSettleHeight: number
  Merges: { Lane: number; Nonce: number }[] | null
  Signature: { Type: number; Data: string } | null
}

const base64OrNull = (b: Uint8Array) => (b.length === 0 ? null : Buffer.from(b).toString('base64'))

function num(value: bigint, where: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
    throw new MalformedChainDataError(`${where}: ${value} does not fit a JSON number`)
  return Number(value)
}

export function signedVoucherToLotusJson(sv: SignedVoucher): LotusVoucherJson {
  signedVoucherToNode(sv) // range checks, as the CBOR form makes them
  return {
    ChannelAddr: formatAddress(sv.channelAddr),
    TimeLockMin: num(sv.timeLockMin, 'voucher TimeLockMin'),
    TimeLockMax: num(sv.timeLockMax, 'voucher TimeLockMax'),
    SecretHash: base64OrNull(sv.secretHash),
    Extra:
      sv.extra === null
        ? null
        : {
            Actor: formatAddress(sv.extra.actor),
            Method: num(sv.extra.method, 'voucher Extra Method'),
            Data: base64OrNull(sv.extra.data)
          },
    Lane: num(sv.lane, 'voucher Lane'),
    Nonce: num(sv.nonce, 'voucher Nonce'),
    Amount: sv.amount.toString(),
    MinSettleHeight: num(sv.minSettleHeight, 'voucher MinSettleHeight'),
    Merges:
      sv.merges.length === 0
        ? null
        : sv.merges.map((m) => ({ Lane: num(m.lane, 'merge Lane'), Nonce: num(m.nonce, 'merge Nonce') })),
    Signature: sv.signature === null ? null : signatureToLotusJson(sv.signature)
  }
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedChainDataError(`${where}: not a JSON object`)
  return value as Record<string, unknown>
}

function integer(value: unknown, where: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  throw new MalformedChainDataError(`${where}: not an integer`)
}

/** Reads a voucher from Lotus' JSON; the same range checks as the CBOR form, MalformedChainDataError naming the field. */
export function signedVoucherFromLotusJson(json: unknown, where = 'voucher'): SignedVoucher {
  const o = object(json, where)
  const extra = o.Extra === null || o.Extra === undefined ? null : object(o.Extra, `${where} Extra`)
  if (o.Merges !== null && o.Merges !== undefined && !Array.isArray(o.Merges))
    throw new MalformedChainDataError(`${where} Merges: not an array`)
  const merges = ((o.Merges as unknown[] | null | undefined) ?? []).map((m, i) => {
    const pair = object(m, `${where} Merges[${i}]`)
    return {
      lane: integer(pair.Lane, `${where} Merges[${i}] Lane`),
      nonce: integer(pair.Nonce, `${where} Merges[${i}] Nonce`)
    }
  })
  const sv: SignedVoucher = {
    channelAddr: jsonAddress(o.ChannelAddr, `${where} ChannelAddr`),
    timeLockMin: integer(o.TimeLockMin ?? 0, `${where} TimeLockMin`),
    timeLockMax: integer(o.TimeLockMax ?? 0, `${where} TimeLockMax`),
    secretHash: jsonBytes(o.SecretHash, `${where} SecretHash`),
    extra:
      extra === null
        ? null
        : {
            actor: jsonAddress(extra.Actor, `${where} Extra Actor`),
            method: integer(extra.Method, `${where} Extra Method`),
            data: jsonBytes(extra.Data, `${where} Extra Data`)
          },
    lane: integer(o.Lane, `${where} Lane`),
    nonce: integer(o.Nonce, `${where} Nonce`),
    amount: jsonBigInt(o.Amount, `${where} Amount`),
    minSettleHeight: integer(o.MinSettleHeight ?? 0, `${where} MinSettleHeight`),
    merges,
    signature:
      o.Signature === null || o.Signature === undefined
        ? null
        : signatureFromLotusJson(o.Signature, `${where} Signature`)
  }
  // The round trip through the tuple form applies its range checks (uint64 lanes, int64 epochs, merge count).
  return signedVoucherFromNode(signedVoucherToNode(sv), where)
}
