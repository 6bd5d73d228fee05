import { Hono } from 'hono'
import type { AppEnv, ReadinessCheck } from '../env.ts'

/** Liveness and readiness: open (no token), for orchestrators and load balancers. */
export function healthRoutes(checks: Record<string, ReadinessCheck>) {
  const app = new Hono<AppEnv>()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const results: Record<string, string> = {}
    let ready = true
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check()
          results[name] = 'ok'
        } catch (err) {
          ready = false
          results[name] = (err as Error).message
        }
      })
    )
    return c.json({ status: ready ? 'ready' : 'not ready', checks: results }, ready ? 200 : 503)
  })
  return app
}
