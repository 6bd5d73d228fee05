import type { Logger } from '@autoretrieve/interface'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { secureHeaders } from 'hono/secure-headers'
import { adminAuth } from './auth.ts'
import { DEFAULT_BODY_LIMIT_BYTES, STREAMED_BODY_PATHS } from './constants.ts'
import { consoleAssetRoutes } from './dashboard/assets.ts'
import { DASHBOARD_CSP, dashboardHtml } from './dashboard/page.ts'
import type { AppEnv, ReadinessCheck } from './env.ts'
import { createErrorHandler } from './error-handler.ts'
import { ApiError } from './errors.ts'
import { type CacheImporter, cacheRoutes } from './routes/cache.ts'
import { healthRoutes } from './routes/health.ts'
import { type HeartbeatApi, heartbeatRoutes } from './routes/heartbeat.ts'
import { type PaymentsApi, paymentsReader } from './routes/payments.ts'
import { type PolicyApi, policyRoutes, policyState } from './routes/policy.ts'
import { type CidState, type RetrievalsApi, retrievalRoutes } from './routes/retrievals.ts'
import { type PeerInfo, peersRoutes, type StatsSnapshot, statsRoutes } from './routes/stats.ts'

/**
 * What the admin plane reads and drives. Each API resource is mounted under /api/v1 (behind the
 * token) when its part is given, so a test builds the app with only the part it exercises.
 */
export interface AdminComponents {
  logger?: Logger
  /** Named readiness checks for /readyz (database, libp2p, cache). */
  readiness?: Record<string, ReadinessCheck>
  /** Prometheus text for /metrics. */
  metrics?: { contentType: string; render(): Promise<string> }
  /** /stats and /stats/stream: the live counters. */
  stats?: () => StatsSnapshot
  /** The payment channel manager (only with `paid-retrievals: true`): the stats' `payments` block. */
  payments?: PaymentsApi
  /** /peers: the Bitswap peers. */
  peers?: () => PeerInfo[]
  /** /cache/import: CARs into the block cache. */
  cache?: CacheImporter
  /** /heartbeat: the Estuary heartbeat's state, and a beat on demand. */
  heartbeat?: HeartbeatApi
  /** /policy, the deny and allow lists, /miner-configs and /reload. */
  policy?: PolicyApi
  /** /retrievals (the history) and /cids/:cid/explain (the history and what holds now). */
  retrievals?: { history: RetrievalsApi; now: CidState }
  /** Further route groups under /api/v1, behind the token. */
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
  // A NUL in a path or query (%00) would reach the database as text it refuses: a 400 here.
  app.use('/api/*', async (c, next) => {
    if (/%00/.test(c.req.url)) throw new ApiError('ERR_INVALID_INPUT', 'the path or query contains a NUL byte (%00)')
    await next()
  })
  app.route('/', healthRoutes(components.readiness ?? {}))
  app.get('/', (c) => {
    c.header('Content-Security-Policy', DASHBOARD_CSP)
    return c.html(dashboardHtml())
  })
  app.route('/', consoleAssetRoutes())
  const metrics = components.metrics
  if (metrics !== undefined) {
    app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }))
  }
  for (const [path, routes] of Object.entries(apiRoutes(components))) app.route(`/api/v1${path}`, routes)
  return app
}

/** The event stream's `policy` events, when the policy part can report its changes. */
function policyEvents(policy: PolicyApi | undefined) {
  const subscribe = policy?.subscribe
  if (policy === undefined || subscribe === undefined) return undefined
  return { state: () => policyState(policy), subscribe: (listener: () => void) => subscribe(listener) }
}

/** The /api/v1 route groups, by mount path, for the parts given. */
function apiRoutes(components: AdminComponents): Record<string, Hono<AppEnv>> {
  const { stats, peers, cache, heartbeat, policy, retrievals, payments } = components
  const paymentsBlock = payments === undefined ? undefined : paymentsReader(payments)
  return {
    ...(stats !== undefined && { '/stats': statsRoutes(stats, policyEvents(policy), paymentsBlock) }),
    ...(peers !== undefined && { '/peers': peersRoutes(peers) }),
    ...(cache !== undefined && { '/cache': cacheRoutes(cache) }),
    ...(heartbeat !== undefined && { '/heartbeat': heartbeatRoutes(heartbeat) }),
    ...(policy !== undefined && policyRoutes(policy)),
    ...(retrievals !== undefined && retrievalRoutes(retrievals.history, retrievals.now)),
    ...components.routes
  }
}
