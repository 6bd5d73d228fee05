import type { HeartbeatStatus } from '@autoretrieve/estuary'
import type { AbortOptions } from '@autoretrieve/interface'
import { Hono } from 'hono'
import type { AppEnv } from '../env.ts'
import { ApiError } from '../errors.ts'

/** What the routes need of the Estuary heartbeat (structurally: `@autoretrieve/estuary`'s `Heartbeat`). */
export interface HeartbeatApi {
  status(): HeartbeatStatus
  /** Sends a heartbeat now (or joins the one in flight) and resolves with the new status. */
  beat(options: AbortOptions): Promise<HeartbeatStatus>
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
