import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { MigrationError, StoreUnavailableError } from './errors.ts'
import * as schema from './schema/index.ts'

export type Schema = typeof schema
/** The drizzle handle: PGlite and postgres-js both implement it, so queries are written once. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>
/** A handle or a transaction: query functions take either, first. */
export type DbOrTx = Parameters<Parameters<Database['transaction']>[0]>[0] | Database

/** One migrations folder serves both engines. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../../migrations', import.meta.url))

export interface Connection {
  kind: 'pglite' | 'postgres'
  db: Database
  /** postgres-js client (LISTEN/NOTIFY), when kind is postgres. */
  sql?: postgres.Sql
  pglite?: PGlite
  close(): Promise<void>
}

export async function connect(init: { databaseUrl?: string; dataDir?: string }): Promise<Connection> {
  if (init.databaseUrl) {
    const sql = postgres(init.databaseUrl, {
      max: 10,
      onnotice: () => {},
      connect_timeout: 10,
      // Bounded: a dead database answers with an error, not a hang.
      idle_timeout: 60
    })
    const db = drizzlePostgres(sql, { schema }) as unknown as Database
    try {
      await sql`select 1`
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {})
      throw new StoreUnavailableError(
        `cannot connect to the database at ${redact(init.databaseUrl)}: ${(err as Error).message}`,
        { cause: err }
      )
    }
    try {
      await migratePostgres(db as never, { migrationsFolder: MIGRATIONS_FOLDER })
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {})
      throw new MigrationError(`database migration failed: ${(err as Error).message}`, { cause: err })
    }
    return { kind: 'postgres', db, sql, close: () => sql.end({ timeout: 5 }) }
  }
  let dir: string | undefined
  if (init.dataDir) {
    dir = join(init.dataDir, 'db')
    await mkdir(dir, { recursive: true, mode: 0o700 })
  }
  const pglite = new PGlite(dir)
  const db = drizzlePglite(pglite, { schema }) as unknown as Database
  try {
    await migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER })
  } catch (err) {
    await pglite.close().catch(() => {})
    throw new MigrationError(`embedded database migration failed: ${(err as Error).message}`, { cause: err })
  }
  return { kind: 'pglite', db, pglite, close: () => pglite.close() }
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
