import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { AppEnv } from '../env.ts'

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

export function statsRoutes(stats: () => StatsSnapshot) {
  const app = new Hono<AppEnv>()
  app.get('/', (c) => c.json(stats()))
  app.get('/stream', (c) =>
    streamSSE(c, async (stream) => {
      let open = true
      stream.onAbort(() => {
        open = false
      })
      let id = 0
      while (open) {
        await stream.writeSSE({ event: 'stats', id: String(id++), data: JSON.stringify(stats()) })
        await stream.sleep(STATS_STREAM_INTERVAL_MS)
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
