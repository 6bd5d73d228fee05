import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AbortOptions, Logger } from '@autoretrieve/interface'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_POOL_SIZE } from './constants.ts'
import { type EmbeddedHandle, openEmbedded } from './embedded.ts'
import { MigrationError, StoreUnavailableError, throwIfAborted } from './errors.ts'
import * as schema from './schema/index.ts'

export type Schema = typeof schema
/** The drizzle handle: PGlite and postgres-js both implement it, so queries are written once. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>
/** A handle or a transaction: query functions take either, first. */
export type DbOrTx = Parameters<Parameters<Database['transaction']>[0]>[0] | Database

/** One migrations folder serves both engines (drizzle's two migrators read the same journal). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations', import.meta.url))

export interface Connection {
  kind: 'pglite' | 'postgres'
  db: Database
  /** The PostgreSQL URL, when kind is postgres: the change feed opens its own LISTEN connection. */
  url?: string
  close(): Promise<void>
}

export interface ConnectInit {
  databaseUrl?: string
  dataDir?: string
  logger?: Logger
  /** For tests: the embedded database's seed (see embedded.ts) and another migrations folder. */
  seedFile?: string
  migrationsFolder?: string
}

/** Opens the database and brings its schema up to date; a failed migration is a MigrationError. */
export async function connect(init: ConnectInit, options: AbortOptions = {}): Promise<Connection> {
  throwIfAborted(options.signal)
  return init.databaseUrl
    ? connectPostgres(init.databaseUrl, init.migrationsFolder, options)
    : connectPglite(init, options)
}

async function connectPostgres(
  url: string,
  migrationsFolder: string | undefined,
  options: AbortOptions
): Promise<Connection> {
  const sql = postgres(url, {
    max: DEFAULT_POOL_SIZE,
    onnotice: () => {},
    // Bounded: a dead database answers with an error, not a hang.
    connect_timeout: DEFAULT_CONNECT_TIMEOUT_S,
    idle_timeout: 60
  })
  const close = () => sql.end({ timeout: 5 })
  const db = drizzlePostgres(sql, { schema }) as unknown as Database
  try {
    await sql`select 1`
    throwIfAborted(options.signal)
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {})
    if (options.signal?.aborted) throw err
    throw new StoreUnavailableError(`cannot connect to the database at ${redact(url)}: ${(err as Error).message}`, {
      cause: err
    })
  }
  try {
    await migratePostgres(db as never, { migrationsFolder: migrationsFolder ?? MIGRATIONS_FOLDER })
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {})
    throw new MigrationError(`database migration failed: ${describe(err)}`, { cause: err })
  }
  return { kind: 'postgres', db, url, close }
}

async function connectPglite(init: ConnectInit, options: AbortOptions): Promise<Connection> {
  let dir: string | undefined
  if (init.dataDir) {
    dir = join(init.dataDir, 'db')
    await mkdir(dir, { recursive: true, mode: 0o700 })
  }
  let embedded: EmbeddedHandle
  try {
    embedded = await openEmbedded({ dir, logger: init.logger, seedFile: init.seedFile })
  } catch (err) {
    throw new StoreUnavailableError(`cannot open the embedded database in ${dir ?? 'memory'}: ${describe(err)}`, {
      cause: err
    })
  }
  try {
    throwIfAborted(options.signal)
  } catch (err) {
    await embedded.release().catch(() => {})
    throw err
  }
  const db = drizzlePglite(embedded.pglite, { schema }) as unknown as Database
  try {
    await migratePglite(db as never, { migrationsFolder: init.migrationsFolder ?? MIGRATIONS_FOLDER })
  } catch (err) {
    await embedded.release().catch(() => {})
    throw new MigrationError(`embedded database migration failed: ${describe(err)}`, { cause: err })
  }
  return { kind: 'pglite', db, close: () => embedded.release() }
}

/** drizzle's wrapper says "Failed query: <sql>"; the driver's own message underneath says why. */
function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } }
  return e?.cause?.message ?? e?.message ?? String(err)
}

function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '<database url>'
  }
}
