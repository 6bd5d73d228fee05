/**
 * @autoretrieve/store: the node's database. PGlite embedded in the data dir when no URL is
 * given, PostgreSQL (postgres-js) otherwise, one drizzle schema and one migrations folder for
 * both. Holds the policy overrides (versioned, with a change feed across instances) and the
 * retrieval records (written in batches by the RecordWriter).
 */
export type { ChangeFeed } from './change-feed.ts'
export { type Database, type DbOrTx, MIGRATIONS_FOLDER } from './connect.ts'
export { InvalidCursorError, MigrationError, StoreUnavailableError } from './errors.ts'
export { cidKey } from './keys.ts'
export { createRecordWriter, type RecordWriter, type RecordWriterInit } from './record-writer.ts'
export { POLICY_CHANNEL, type PolicyRepository } from './repositories/policy.ts'
export type { RetrievalRepository } from './repositories/retrievals.ts'
export * as schema from './schema/index.ts'
export { createStore, type Store, type StoreInit } from './store.ts'
export type * from './types.ts'
