import { randomBytes } from 'node:crypto'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import { adminAuth } from './auth.ts'
import { DEFAULT_BODY_LIMIT_BYTES, STREAMED_BODY_PATHS } from './constants.ts'
import { dashboardHtml } from './dashboard/page.ts'
import type { AppEnv, Logger, ReadinessCheck } from './env.ts'
import { createErrorHandler } from './error-handler.ts'
import { ApiError } from './errors.ts'
import { healthRoutes } from './routes/health.ts'

export interface AdminComponents {
  logger?: Logger
  /** Named readiness checks for /readyz (database, libp2p, cache). */
  readiness?: Record<string, ReadinessCheck>
  /** Prometheus text for /metrics. */
  metrics?: { contentType: string; render(): Promise<string> }
  /** Mounts further route groups under /api/v1 (each behind the token). */
  routes?: Record<string, Hono<AppEnv>>
}

export interface AdminInit {
  /** The bearer token; read per request, so a rotated token applies at once. */
  token: () => string
  bodyLimitBytes?: number
}

/** The admin plane as a Hono app. Only the entry point listens; this just answers requests. */
export function createAdminApp(components: AdminComponents, init: AdminInit): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.onError(createErrorHandler(components.logger))
  app.notFound((c) =>
    c.json({ error: { code: 'ERR_NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` } }, 404)
  )
  app.use('*', secureHeaders())
  const limit = init.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES
  const jsonBodyLimit = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new ApiError('ERR_BODY_TOO_LARGE', `request body over ${limit} bytes`)
    }
  })
  // CAR imports stream straight into the cache block by block, so they carry no JSON-sized limit.
  // GET and HEAD carry no body; asking for one would make @hono/node-server build a full undici
  // Request per call, the largest cost of a polled endpoint such as /api/v1/stats.
  app.use('/api/*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' || STREAMED_BODY_PATHS.has(c.req.path)
      ? next()
      : jsonBodyLimit(c, next)
  )
  app.use('/api/*', adminAuth(init.token))
  app.route('/', healthRoutes(components.readiness ?? {}))
  app.get('/', (c) => {
    // A fresh nonce per response: the page's inline style and script run, nothing else would.
    const nonce = randomBytes(16).toString('base64')
    c.header(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
    )
    return c.html(dashboardHtml(nonce))
  })
  const metrics = components.metrics
  if (metrics !== undefined) {
    app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }))
  }
  for (const [path, routes] of Object.entries(components.routes ?? {})) app.route(`/api/v1${path}`, routes)
  return app
}
