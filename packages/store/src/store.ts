import { sql } from 'drizzle-orm'
import { type ChangeFeed, createChangeFeed } from './change-feed.ts'
import { connect, type Database } from './connect.ts'
import { StoreUnavailableError } from './errors.ts'
import { createPolicyRepository, type PolicyRepository } from './repositories/policy.ts'
import { createRetrievalRepository, type RetrievalRepository } from './repositories/retrievals.ts'
import type { AbortOptions, Logger } from './types.ts'

export interface StoreInit {
  /** '' or undefined: embedded PGlite in <dataDir>/db (in memory without a dataDir). */
  databaseUrl?: string
  dataDir?: string
  logger?: Logger
}

export interface Store {
  readonly kind: 'pglite' | 'postgres'
  readonly db: Database
  readonly policy: PolicyRepository
  readonly retrievals: RetrievalRepository
  readonly changes: ChangeFeed
  ping(options?: AbortOptions): Promise<void>
  close(): Promise<void>
}

/** Opens the database (migrating it) and returns the repositories over it. */
export async function createStore(init: StoreInit, _options: AbortOptions = {}): Promise<Store> {
  const conn = await connect(init)
  let feed: ReturnType<typeof createChangeFeed> | undefined
  const policy = createPolicyRepository(conn.db, (version) => feed?.local(version))
  feed = createChangeFeed({ sql: conn.sql, currentVersion: () => policy.currentVersion(), logger: init.logger })
  const changes = feed
  let closed = false
  return {
    kind: conn.kind,
    db: conn.db,
    policy,
    retrievals: createRetrievalRepository(conn.db),
    changes,
    async ping() {
      try {
        await conn.db.execute(sql`select 1`)
      } catch (err) {
        throw new StoreUnavailableError(`database unavailable: ${(err as Error).message}`, { cause: err })
      }
    },
    async close() {
      if (closed) return
      closed = true
      await changes.stop()
      await conn.close()
    }
  }
}
