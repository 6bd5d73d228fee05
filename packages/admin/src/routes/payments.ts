/**
 * The `payments` block of /api/v1/stats: what the payment channel manager says it has spent today
 * and holds in each channel. Its `summary()` reads the database (and may ask Lotus), unlike the
 * other counters, so reads are shared and bounded in time here: the stats answer never waits on a
 * slow manager for long, and says so when it could not read it instead of leaving the block out
 * (absent means "paid retrievals are off", nothing else).
 */
import type { PaymentsSummary } from '@autoretrieve/paych'

/** The manager as the admin plane needs it. */
export interface PaymentsApi {
  summary(): Promise<PaymentsSummary>
}

/** The stats block: the summary, or why it could not be read this time. */
export type PaymentsStats = PaymentsSummary | { error: string }

/** How long a stats read waits for the summary before answering with an error in the block. */
export const PAYMENTS_SUMMARY_TIMEOUT_MS = 2000

/** Reads the summary for the stats: concurrent reads (the API, each console stream) share one call. */
export function paymentsReader(
  api: PaymentsApi,
  timeoutMs = PAYMENTS_SUMMARY_TIMEOUT_MS
): () => Promise<PaymentsStats> {
  let inFlight: Promise<PaymentsStats> | undefined
  const read = async (): Promise<PaymentsStats> => {
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        api.summary(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
        })
      ])
    } catch (err) {
      return { error: `payments summary unavailable: ${(err as Error).message}` }
    } finally {
      clearTimeout(timer)
    }
  }
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }
}
