import type { AbortOptions, Logger } from '@autoretrieve/interface'
import { sql } from 'drizzle-orm'
import { type ChangeFeed, createChangeFeed } from './change-feed.ts'
import { connect, type Database } from './connect.ts'
import { DEFAULT_PING_TIMEOUT_MS } from './constants.ts'
import { StoreUnavailableError, throwIfAborted } from './errors.ts'
import { createPaychRepository, type PaychRepository } from './repositories/paych.ts'
import { createPolicyRepository, type PolicyRepository } from './repositories/policy.ts'
import { createRetrievalRepository, type RetrievalRepository } from './repositories/retrievals.ts'

export interface StoreInit {
  /** '' or undefined: embedded PGlite in <dataDir>/db (in memory without a dataDir); else PostgreSQL. */
  databaseUrl?: string
  dataDir?: string
  logger?: Logger
  /** For tests: the embedded database's seed (`seed/pgdata.tar.gz`) and the migrations folder. */
  seedFile?: string
  migrationsFolder?: string
}

export interface Store {
  readonly kind: 'pglite' | 'postgres'
  /** The drizzle handle: `DbOrTx`-style query functions take it first. */
  readonly db: Database
  readonly policy: PolicyRepository
  readonly retrievals: RetrievalRepository
  /** Payment channels, lanes and vouchers (paid retrievals). */
  readonly paych: PaychRepository
  /** Policy version changes, from this process and (PostgreSQL) every other instance. */
  readonly changes: ChangeFeed
  /** Readiness: resolves when the database answers, else throws StoreUnavailableError (bounded in time). */
  ping(options?: AbortOptions): Promise<void>
  close(): Promise<void>
}

/**
 * Opens the database and migrates it (MigrationError on failure: the node must exit), then
 * returns the repositories over it. Unreachable database: StoreUnavailableError.
 */
export async function createStore(init: StoreInit, options: AbortOptions = {}): Promise<Store> {
  const conn = await connect(init, options)
  let feed: ReturnType<typeof createChangeFeed> | undefined
  const policy = createPolicyRepository(conn.db, (version) => feed?.local(version))
  feed = createChangeFeed({ url: conn.url, currentVersion: () => policy.currentVersion(), logger: init.logger })
  const changes = feed
  let closed = false
  init.logger?.debug({ kind: conn.kind }, 'store open and migrated')
  return {
    kind: conn.kind,
    db: conn.db,
    policy,
    retrievals: createRetrievalRepository(conn.db),
    paych: createPaychRepository(conn.db),
    changes,
    async ping(options = {}) {
      throwIfAborted(options.signal)
      if (closed) throw new StoreUnavailableError('the store is closed', { cause: new Error('closed') })
      const signal = AbortSignal.any([
        AbortSignal.timeout(DEFAULT_PING_TIMEOUT_MS),
        ...(options.signal ? [options.signal] : [])
      ])
      let onAbort: (() => void) | undefined
      try {
        await Promise.race([
          conn.db.execute(sql`select 1`),
          new Promise((_, reject) => {
            onAbort = () => reject(signal.reason)
            signal.addEventListener('abort', onAbort, { once: true })
          })
        ])
      } catch (err) {
        throw new StoreUnavailableError(`database unavailable: ${(err as Error).message}`, { cause: err })
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort)
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
