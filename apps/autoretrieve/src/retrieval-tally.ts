import type { StatsSnapshot } from '@autoretrieve/admin'
import type { RetrieverEvents } from '@autoretrieve/retriever'

/** Counts what the retriever's totals do not: finished retrievals by outcome, and time to first byte. */
export interface RetrievalTally {
  /** The retriever's events: counted here, then passed on to `next` (the metrics). */
  events(next: RetrieverEvents): RetrieverEvents
  read(): Pick<StatsSnapshot, 'ttfb'> & { byOutcome: Record<string, number> }
}

export function createRetrievalTally(): RetrievalTally {
  // Outcomes come from a small fixed set (success and the retriever's FailureReasons), so this stays small.
  const byOutcome: Record<string, number> = {}
  const ttfb = { count: 0, totalMs: 0, lastMs: null as number | null }
  return {
    events: (next) => ({
      ...next,
      onAttemptEnded(protocol, outcome, info) {
        if (info.ttfbMs !== undefined) {
          ttfb.count++
          ttfb.totalMs += info.ttfbMs
          ttfb.lastMs = info.ttfbMs
        }
        next.onAttemptEnded?.(protocol, outcome, info)
      },
      onRetrievalEnded(ok, reason) {
        const key = ok ? 'success' : (reason ?? 'failed')
        byOutcome[key] = (byOutcome[key] ?? 0) + 1
        next.onRetrievalEnded?.(ok, reason)
      }
    }),
    read: () => ({ byOutcome: { ...byOutcome }, ttfb: { ...ttfb } })
  }
}
