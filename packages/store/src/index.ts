/**
 * @autoretrieve/store: the node's database. PGlite embedded in the data dir when no URL is
 * given, PostgreSQL (postgres-js) otherwise, one drizzle schema and one migrations folder for
 * both. Holds the policy overrides (versioned, with a change feed across instances) and the
 * retrieval records (written in batches by the RecordWriter).
 */
export type { ChangeFeed } from './change-feed.ts'
export { type Database, type DbOrTx, MIGRATIONS_FOLDER } from './connect.ts'
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_PING_TIMEOUT_MS,
  MAX_LIST_LIMIT
} from './constants.ts'
export { AbortError, InvalidCursorError, MigrationError, NotFoundError, StoreUnavailableError } from './errors.ts'
export { cidKey } from './keys.ts'
export {
  createRecordWriter,
  type RecordWriter,
  type RecordWriterInit,
  type RecordWriterStats
} from './record-writer.ts'
export {
  applyPolicyChange,
  currentPolicyVersion,
  type LoadedPolicy,
  loadPolicy,
  POLICY_CHANNEL,
  type PolicyRepository,
  policyHistory
} from './repositories/policy.ts'
export { writeRecords } from './repositories/retrieval-writes.ts'
export {
  type ExplainResult,
  explainCid,
  getRetrieval,
  listRetrievals,
  type RetrievalRepository
} from './repositories/retrievals.ts'
export * as schema from './schema/index.ts'
export { createStore, type Store, type StoreInit } from './store.ts'
export type * from './types.ts'
