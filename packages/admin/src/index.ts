/**
 * @autoretrieve/admin: the operator's HTTP plane as a Hono app. `createAdminApp` builds it from
 * narrow components; `listenAdmin` binds it (only the app's entry point calls that).
 */
export { type AdminComponents, type AdminInit, createAdminApp } from './app.ts'
export type { AppEnv, Logger, ReadinessCheck } from './env.ts'
export { API_ERRORS, ApiError, type ApiErrorCode } from './errors.ts'
export { type CacheImporter, cacheRoutes } from './routes/cache.ts'
export { type HeartbeatApi, type HeartbeatStatus, heartbeatRoutes } from './routes/heartbeat.ts'
export { type PolicyApi, type PolicyView, policyRoutes, policyView } from './routes/policy.ts'
export { type RetrievalsApi, retrievalRoutes } from './routes/retrievals.ts'
export {
  type PeerInfo,
  peersRoutes,
  STATS_STREAM_INTERVAL_MS,
  type StatsSnapshot,
  statsRoutes
} from './routes/stats.ts'
export { AdminListenError, type AdminServer, listenAdmin } from './server.ts'
