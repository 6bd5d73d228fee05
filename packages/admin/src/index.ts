/**
 * @autoretrieve/admin: the operator's HTTP plane as a Hono app. `createAdminApp` builds it from
 * narrow components (the node's store, policy, cache, heartbeat and counters, each optional) and
 * mounts its own routes: health and /metrics open, /api/v1 behind the bearer token, the dashboard
 * at /. `listenAdmin` binds it (only the app's entry point calls that). `API_ERRORS` is the one
 * registry of the API's error codes.
 */
export { type AdminComponents, type AdminInit, createAdminApp } from './app.ts'
export type { AppEnv, ReadinessCheck } from './env.ts'
export { API_ERRORS, ApiError, type ApiErrorCode } from './errors.ts'
export type { CacheImporter } from './routes/cache.ts'
export type { HeartbeatApi } from './routes/heartbeat.ts'
export type { PaymentsApi, PaymentsStats } from './routes/payments.ts'
export type { PolicyApi, PolicyView } from './routes/policy.ts'
export type { CidState, RetrievalsApi } from './routes/retrievals.ts'
export type { PeerInfo, StatsSnapshot } from './routes/stats.ts'
export { AdminListenError, type AdminServer, listenAdmin } from './server.ts'
