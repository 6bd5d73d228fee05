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
          results[name] = oneLine(reasonOf(err))
        }
      })
    )
    return c.json({ status: ready ? 'ready' : 'not ready', checks: results }, ready ? 200 : 503)
  })
  return app
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  // A connection refused on every address is an AggregateError with an empty message.
  if (message === '' && err instanceof AggregateError)
    return err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ')
  return message
}

/** A check's reason as one clean line: a driver's multi-line message (or an AggregateError's) is folded and bounded. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim() || 'failed'
  return line.length > 300 ? `${line.slice(0, 299)}…` : line
}
