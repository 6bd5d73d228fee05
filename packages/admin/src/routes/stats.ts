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
    /** Failed retrievals by reason (an error class: `no_candidates`, `indexer_failed`, …); they sum to `failed`. */
    failures?: Record<string, number>
    /** Wants refused `rate_limited` (no retrieval started; not in `failed`). */
    rateLimited?: number
  }
  bytes: { in: number; out: number }
  cache: { blocks: number; bytes: number; diskBytes: number }
  records: { buffered: number; written: number; dropped: number }
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
