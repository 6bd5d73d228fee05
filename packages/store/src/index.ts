/**
 * @autoretrieve/store: the node's database. PostgreSQL (postgres-js) when a URL is given, else
 * PGlite embedded in the data dir (in memory without one); one drizzle schema and one migrations
 * folder serve both. Holds the admin API's policy overrides (versioned, with a change feed that
 * tells every instance of a new version) and the retrieval records: retrievals, their candidates
 * and attempts, and refusals, written in batches off the hot path by the RecordWriter and read
 * back as lists, details and a CID's explanation. CIDs are stored under `cidKey` (the multihash).
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
export {
  createRecordWriter,
  type RecordWriter,
  type RecordWriterInit,
  type RecordWriterStats
} from './record-writer.ts'
export type { PaychRepository, StoredChannel, StoredLane, VoucherOutcome } from './repositories/paych.ts'
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
