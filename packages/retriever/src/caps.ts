// The spending caps of paid retrievals, per provider from the policy snapshot (max-price-per-byte,
// max-unseal-price, max-retrieval-cost; per-miner overrides in miner-configs) and per node from
// the payments' daily remainder (max-spend-per-day). An ask over any is passed over before a
// proposal is sent (`price_too_high`).
import { type QueryResponse, queryTotalCost } from '@autoretrieve/filecoin'
import { type MinerConfig, minerConfigFor, type PolicySnapshot } from '@autoretrieve/policy'
import type { Candidate } from '@autoretrieve/routing'
import { AttemptError } from './errors.ts'
import type { RetrievalPayments } from './types.ts'

/** attoFIL caps for one provider; an absent cap is no cap. */
export type PaymentCaps = Pick<MinerConfig, 'maxPricePerByte' | 'maxUnsealPrice' | 'maxRetrievalCost'>

/** The caps the policy sets for this candidate (its peer ID, or its miner address). */
export function paymentCapsFor(snapshot: PolicySnapshot, candidate: Candidate): PaymentCaps {
  const { maxPricePerByte, maxUnsealPrice, maxRetrievalCost } = minerConfigFor(snapshot, [
    candidate.peerId,
    ...(candidate.minerAddress ? [candidate.minerAddress] : [])
  ])
  return { maxPricePerByte, maxUnsealPrice, maxRetrievalCost }
}

/**
 * Why a priced ask is passed over, or undefined to propose to it: its price per byte or unseal
 * price over its cap, or its total (MinPricePerByte × Size + UnsealPrice) over max-retrieval-cost
 * or over what is left of today's spend (`price_too_high`); payments that cannot say what is left
 * (`paych`).
 */
export async function judgePrice(
  ask: QueryResponse,
  caps: PaymentCaps,
  payments: RetrievalPayments | undefined,
  provider: string
): Promise<AttemptError | undefined> {
  if (payments === undefined)
    return new AttemptError('paych', `${provider} asks a price and this node has no payment channels to pay it with`)
  const over = (what: string, value: bigint, cap: bigint) =>
    new AttemptError('price_too_high', `${provider} asks ${value} attoFIL ${what}, over ${cap}`)
  if (caps.maxPricePerByte !== undefined && ask.minPricePerByte > caps.maxPricePerByte)
    return over('per byte', ask.minPricePerByte, caps.maxPricePerByte)
  if (caps.maxUnsealPrice !== undefined && ask.unsealPrice > caps.maxUnsealPrice)
    return over('to unseal', ask.unsealPrice, caps.maxUnsealPrice)
  const total = queryTotalCost(ask)
  const terms = `in all (${ask.minPricePerByte}/byte × ${ask.size} bytes + ${ask.unsealPrice} to unseal)`
  if (caps.maxRetrievalCost !== undefined && total > caps.maxRetrievalCost)
    return new AttemptError(
      'price_too_high',
      `${provider} asks ${total} attoFIL ${terms}, over max-retrieval-cost ${caps.maxRetrievalCost}`
    )
  let remaining: bigint | undefined
  try {
    remaining = await payments.remainingToday()
  } catch (cause) {
    return new AttemptError('paych', `today's spend could not be read: ${(cause as Error).message}`, { cause })
  }
  if (remaining !== undefined && total > remaining)
    return new AttemptError(
      'price_too_high',
      `${provider} asks ${total} attoFIL ${terms}, over the ${remaining} left of max-spend-per-day today`
    )
  return undefined
}
