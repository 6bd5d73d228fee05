import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../env.ts'
import type { PaymentsStats } from './payments.ts'

/** Live counters as the API and the dashboard show them. */
export interface StatsSnapshot {
  uptimeSeconds: number
  policyVersion: number
  peers: number
  wants: number
  wantsReceived: number
  hits: number
  misses: number
  blocksSent: number
  haves: number
  dontHaves: number
  retrievals: {
    active: number
    succeeded: number
    failed: number
    /** Finished retrievals by outcome: `success`, or the failure reason (`no_candidates`, `all_failed`, …). */
    byOutcome: Record<string, number>
    /** Failed retrievals by reason (an error class: `no_candidates`, `indexer_failed`, …); they sum to `failed`. */
    failures?: Record<string, number>
    /** Wants refused `rate_limited` (no retrieval started; not in `failed`). */
    rateLimited?: number
  }
  bytes: { in: number; out: number }
  /** Time to first verified block over every attempt that got one: a running sum, so a reader takes rates. */
  ttfb: { count: number; totalMs: number; lastMs: number | null }
  /** `pruneThresholdBytes`: the cache's prune-threshold (0: never pruned). */
  cache: { blocks: number; bytes: number; diskBytes: number; pruneThresholdBytes: number }
  records: { buffered: number; written: number; dropped: number }
  /** The Estuary heartbeat: its state and what last went wrong (null fields when never). */
  heartbeat: {
    state: string
    lastSuccessAt: string | null
    lastError: { message: string; at: string } | null
  }
  /** When this process started (ISO 8601). */
  startedAt: string
  /** The trustless gateway's counters (absent on a node without it). */
  gateway?: {
    requests: number
    active: number
    bytesSent: number
    blocksSent: number
    hits: number
    misses: number
    errors: number
  }
  /**
   * Paid retrievals (absent when `paid-retrievals` is off): attoFIL spent today against
   * `max-spend-per-day`, and each payment channel's balance, what was paid on it and its lanes;
   * `{ error }` when the payment manager could not be read this time.
   */
  payments?: PaymentsStats
}

export interface PeerInfo {
  peer: string
  wants: number
  queued: number
  bytesSent: number
  blocksSent: number
}

/** How often the SSE stream sends a snapshot. */
export const STATS_STREAM_INTERVAL_MS = 1000

/**
 * The policy side of the stream: `state()` is the `policy` event's data, sent once when the stream
 * opens and again after each new snapshot `subscribe` reports (from any instance).
 */
export interface PolicyEvents {
  state(): unknown
  subscribe(listener: () => void): () => void
}

export function statsRoutes(
  stats: () => StatsSnapshot,
  policy?: PolicyEvents,
  /** The `payments` block's reader (see paymentsReader); absent: no block. */
  payments?: () => Promise<PaymentsStats>
) {
  const snapshot = async (): Promise<StatsSnapshot> =>
    payments === undefined ? stats() : { ...stats(), payments: await payments() }
  const app = new Hono<AppEnv>()
  app.get('/', async (c) => c.json(await snapshot()))
  app.get('/stream', (c) =>
    streamSSE(c, async (stream) => {
      let open = true
      // Changes that land while an event is written are coalesced: the next `policy` event
      // carries the state at the time it is sent, so a client never lags behind the version.
      let policyChanged = policy !== undefined
      let wake: (() => void) | undefined
      const unsubscribe = policy?.subscribe(() => {
        policyChanged = true
        wake?.()
      })
      stream.onAbort(() => {
        open = false
        wake?.()
      })
      let id = 0
      let nextStats = 0
      try {
        while (open) {
          if (policyChanged && policy !== undefined) {
            policyChanged = false
            await stream.writeSSE({ event: 'policy', id: String(id++), data: JSON.stringify(policy.state()) })
          }
          if (Date.now() >= nextStats) {
            await stream.writeSSE({ event: 'stats', id: String(id++), data: JSON.stringify(await snapshot()) })
            nextStats = Date.now() + STATS_STREAM_INTERVAL_MS
          }
          if (!open || policyChanged) continue
          const woken = new Promise<void>((resolve) => {
            wake = resolve
          })
          await Promise.race([stream.sleep(Math.max(0, nextStats - Date.now())), woken])
          wake = undefined
        }
      } finally {
        unsubscribe?.()
      }
    })
  )
  return app
}

export function peersRoutes(peers: () => PeerInfo[]) {
  const app = new Hono<AppEnv>()
  app.get('/', (c) => c.json({ peers: peers() }))
  return app
}
