import type { StatsSnapshot } from '@autoretrieve/admin'
import type { RetrieverEvents } from '@autoretrieve/retriever'

/**
 * Counts what the retriever's totals do not: time to first byte, for the console. (Outcomes are
 * the retriever's own `succeeded` and `failures`; stats.ts reads them there.)
 */
export interface RetrievalTally {
  /** The retriever's events: counted here, then passed on to `next` (the metrics). */
  events(next: RetrieverEvents): RetrieverEvents
  read(): Pick<StatsSnapshot, 'ttfb'>
}

export function createRetrievalTally(): RetrievalTally {
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
      }
    }),
    read: () => ({ ttfb: { ...ttfb } })
  }
}
