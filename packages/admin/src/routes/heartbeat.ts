import { Hono } from 'hono'
import type { AppEnv } from '../env.ts'
import { ApiError } from '../errors.ts'

/** The Estuary heartbeat as `GET /api/v1/heartbeat` shows it. Times are ISO 8601, null when none yet. */
export interface HeartbeatStatus {
  /** false when no `advertise-endpoint-url` is configured; every other field is then empty. */
  enabled: boolean
  /** disabled | pending (started, no answer yet) | ok | failing (the last beat failed) | stopped */
  state: 'disabled' | 'pending' | 'ok' | 'failing' | 'stopped'
  /** Why it is disabled, when it is. */
  reason: string | null
  /** The heartbeat URL (never the token). */
  endpoint: string | null
  /** The handle Estuary knows this node by, from its last answer. */
  handle: string | null
  lastSuccessAt: string | null
  lastError: { message: string; at: string } | null
  nextBeatAt: string | null
  /** Estuary's advertiseInterval from the last answer, as sent (Go duration) and in ms. */
  advertiseInterval: string | null
  advertiseIntervalMs: number | null
  /** When Estuary last advertised this node to IPNI (null: never, or not said). */
  lastAdvertisementAt: string | null
  /** heartbeat-interval: the delay before a retry after a failure. */
  retryIntervalMs: number | null
  beats: { succeeded: number; failed: number }
}

export interface HeartbeatApi {
  status(): HeartbeatStatus
  /** Sends a heartbeat now (or joins the one in flight) and resolves with the new status. */
  beat(options: { signal?: AbortSignal }): Promise<HeartbeatStatus>
}

/** GET /api/v1/heartbeat: the status; POST: beat now (409 when disabled, 502 when Estuary fails). */
export function heartbeatRoutes(api: HeartbeatApi) {
  const app = new Hono<AppEnv>()
  app.get('/', (c) => c.json(api.status()))
  app.post('/', async (c) => {
    const disabled = (reason: string | null, cause?: unknown) =>
      new ApiError('ERR_HEARTBEAT_DISABLED', `no Estuary heartbeat to send: ${reason ?? 'it is disabled'}`, { cause })
    const before = api.status()
    if (!before.enabled || before.state === 'stopped') throw disabled(before.reason ?? before.state)
    try {
      return c.json(await api.beat({ signal: c.req.raw.signal }))
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_HEARTBEAT_DISABLED') throw disabled((err as Error).message, err)
      throw new ApiError('ERR_HEARTBEAT_FAILED', `heartbeat failed: ${(err as Error).message}`, { cause: err })
    }
  })
  return app
}
