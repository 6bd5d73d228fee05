import {
  isPricedAsk,
  QueryFailedError,
  type QueryResponse,
  QueryResponseStatus,
  queryTotalCost
} from '@autoretrieve/filecoin'
import type { Candidate } from '@autoretrieve/routing'
import type { CID } from 'multiformats/cid'
import { AttemptError } from './errors.ts'
import type { ProtocolAdapter, QueryPhaseSummary } from './types.ts'

/**
 * Once one candidate's answer lets it through, the others get this long to answer before the lane
 * starts with what is ranked so far; later answers join the back of the lane. A hanging query so
 * delays a free provider by at most this, not by the query timeout.
 */
export const QUERY_RANK_WINDOW_MS = 300

export interface QueryPhaseOptions {
  adapter: Pick<ProtocolAdapter, 'query'>
  /** The lane's candidates, best first by score: the tie-break after price. */
  candidates: readonly Candidate[]
  root: CID
  signal: AbortSignal
  paidRetrievals: boolean
  timeoutMs?: number
  rankWindowMs?: number
  /**
   * With paid retrievals on: why a priced ask (one judgeAsk let through) is passed over after all
   * (its caps, today's spend), or undefined to propose to it.
   */
  judgePrice?(candidate: Candidate, ask: QueryResponse): Promise<AttemptError | undefined>
  /** Filled with the answer of every candidate yielded that gave one: the attempt proposes at its terms. */
  asks?: WeakMap<Candidate, QueryResponse>
  /** A candidate the query passed over (no proposal is sent to it), with why. */
  onPassedOver(candidate: Candidate, error: AttemptError, startedAt: Date): void
  /** Every query has settled (those cut short by `signal` count as neither answered nor failed). */
  onSettled(summary: QueryPhaseSummary): void
}

interface Kept {
  candidate: Candidate
  /** Absent: the provider does not speak the query protocol; it is proposed to, after those with terms. */
  ask?: QueryResponse
  index: number
}

/** Why an answer passes the candidate over, or undefined to propose to it. */
export function judgeAsk(ask: QueryResponse, paidRetrievals: boolean, provider: string): AttemptError | undefined {
  const words = ask.message === '' ? '' : `: ${ask.message}`
  if (ask.status === QueryResponseStatus.Unavailable)
    return new AttemptError('query_unavailable', `query to ${provider}: unavailable${words}`)
  if (ask.status !== QueryResponseStatus.Available)
    return new AttemptError('query_failed', `query to ${provider}: status ${ask.status}${words}`)
  if (!paidRetrievals && isPricedAsk(ask))
    return new AttemptError(
      'paid_not_allowed',
      `${provider} asks ${ask.minPricePerByte} attoFIL/byte and ${ask.unsealPrice} attoFIL to unseal; paid-retrievals is off`
    )
  return undefined
}

/**
 * Free and unsealed first, then by total cost (MinPricePerByte × Size + UnsealPrice), as the Go node
 * (Lassie's query phase) ranked; candidates without terms after those with; ties keep score order.
 */
export function rankByAsk(list: readonly Kept[]): Candidate[] {
  const unsealFree = (k: Kept) => (k.ask === undefined ? 2 : k.ask.unsealPrice === 0n ? 0 : 1)
  const cost = (k: Kept) => (k.ask === undefined ? 0n : queryTotalCost(k.ask))
  return [...list]
    .sort((a, b) => {
      const u = unsealFree(a) - unsealFree(b)
      if (u !== 0) return u
      const c = cost(a) - cost(b)
      if (c !== 0n) return c < 0n ? -1 : 1
      return a.index - b.index
    })
    .map((k) => k.candidate)
}

/**
 * Queries every candidate at once and yields them in batches as the answers allow: the first batch,
 * ranked, when all have answered or QUERY_RANK_WINDOW_MS after the first one let through; then each
 * later one as it comes. A candidate passed over is never yielded (no proposal reaches it).
 */
export async function* queryPhase(options: QueryPhaseOptions): AsyncGenerator<Candidate[]> {
  const { adapter, root, signal, paidRetrievals } = options
  const window = options.rankWindowMs ?? QUERY_RANK_WINDOW_MS
  const startedAt = new Date()
  const summary: QueryPhaseSummary = {
    asked: options.candidates.length,
    answered: 0,
    accepted: 0,
    failures: [],
    passedOver: []
  }
  let kept: Kept[] = []
  let firstKeptAt: number | undefined
  let settled = 0
  let wake: () => void = () => {}
  const passOver = (candidate: Candidate, error: AttemptError) => {
    summary.passedOver.push(error.errorClass)
    options.onPassedOver(candidate, error, startedAt)
  }
  const all = options.candidates.map(async (candidate, index) => {
    try {
      if (adapter.query === undefined) {
        kept.push({ candidate, index })
        return
      }
      const ask = await adapter.query(candidate, root, { signal, timeoutMs: options.timeoutMs })
      summary.answered++
      const error = judgeAsk(ask, paidRetrievals, candidate.peerId)
      if (error?.errorClass === 'query_failed') summary.failures.push(ask.message)
      if (error !== undefined) return passOver(candidate, error)
      if (paidRetrievals && isPricedAsk(ask) && options.judgePrice !== undefined) {
        const overCap = await options.judgePrice(candidate, ask)
        if (signal.aborted) return
        if (overCap !== undefined) return passOver(candidate, overCap)
      }
      summary.accepted++
      options.asks?.set(candidate, ask)
      kept.push({ candidate, ask, index })
    } catch (err) {
      if (signal.aborted) return
      if (err instanceof QueryFailedError && err.unsupported) {
        // No query protocol (a plain go-graphsync peer): propose as before, after those with terms.
        summary.failures.push(err.message)
        kept.push({ candidate, index })
        return
      }
      summary.failures.push((err as Error).message)
      passOver(
        candidate,
        new AttemptError('query_failed', `query to ${candidate.peerId}: ${(err as Error).message}`, { cause: err })
      )
    } finally {
      settled++
      if (kept.length > 0) firstKeptAt ??= performance.now()
      wake()
    }
  })
  // Also after an abort (the race was won elsewhere): what had been answered by then is counted.
  Promise.all(all).then(() => options.onSettled(summary))
  let first = true
  while (settled < all.length || kept.length > 0) {
    const windowOver = firstKeptAt !== undefined && performance.now() - firstKeptAt >= window
    if (kept.length > 0 && (!first || windowOver || settled === all.length)) {
      const batch = rankByAsk(kept)
      kept = []
      first = false
      yield batch
      continue
    }
    if (signal.aborted) return
    const onAbort = () => wake()
    await new Promise<void>((resolve) => {
      wake = resolve
      if (firstKeptAt !== undefined && first) {
        const timer = setTimeout(resolve, Math.max(0, firstKeptAt + window - performance.now()))
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      }
      signal.addEventListener('abort', onAbort, { once: true })
    })
    signal.removeEventListener('abort', onAbort)
  }
}
