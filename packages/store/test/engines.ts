import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { createStore, type Store } from '../src/index.ts'

/** The server the PostgreSQL cases use (the same variable as apps/autoretrieve/test/helpers.ts reads). */
const ADMIN_URL = process.env.AUTORETRIEVE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A missing PostgreSQL skips only on a developer's explicit opt-out, and never in CI. */
const ALLOW_SKIP = process.env.AUTORETRIEVE_TEST_ALLOW_SKIP === '1' && !['true', '1'].includes(process.env.CI ?? '')

interface After {
  after(fn: () => Promise<void>): void
}

function admin() {
  return postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} })
}

/**
 * A scratch PostgreSQL database, dropped in `t.after`. PostgreSQL not answering throws (the test
 * fails saying so), or with AUTORETRIEVE_TEST_ALLOW_SKIP=1 outside CI answers why to skip.
 */
export async function scratchPostgres(t: After): Promise<{ url: string } | { skip: string }> {
  const sql = admin()
  try {
    await sql`select 1`
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {})
    const what = `PostgreSQL is not reachable at ${new URL(ADMIN_URL).host} (${(err as Error).message})`
    if (ALLOW_SKIP) return { skip: `${what} (AUTORETRIEVE_TEST_ALLOW_SKIP=1)` }
    throw new Error(
      `${what}. Start one with trust auth for user postgres on 127.0.0.1:5432, or set ` +
        'AUTORETRIEVE_TEST_POSTGRES_URL to a database the tests may create databases from; ' +
        'or set AUTORETRIEVE_TEST_ALLOW_SKIP=1 to skip the tests that need it'
    )
  }
  const name = `autoretrieve_test_${randomBytes(6).toString('hex')}`
  await sql.unsafe(`create database ${name}`)
  t.after(async () => {
    await sql.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
    await sql.end({ timeout: 1 })
  })
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return { url: url.toString() }
}

function dbName(url: string): string {
  return new URL(url).pathname.slice(1)
}

/**
 * A database outage as clients see it: new connections are refused, and the sessions `which`
 * selects ('all', or only LISTEN ones) are killed. `end()` lets connections in again.
 */
export async function outage(url: string, which: 'all' | 'listeners' = 'all'): Promise<{ end(): Promise<void> }> {
  const name = dbName(url)
  const sql = admin()
  try {
    await sql.unsafe(`alter database ${name} allow_connections false`)
    if (which === 'all') {
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`
    } else {
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and query ilike 'listen%'`
    }
  } finally {
    await sql.end({ timeout: 1 })
  }
  return {
    async end() {
      const s = admin()
      try {
        await s.unsafe(`alter database ${name} allow_connections true`)
      } finally {
        await s.end({ timeout: 1 })
      }
    }
  }
}

export interface Engine {
  name: 'pglite' | 'postgres'
  /** Opens a store on this engine's test database (the same one on every call within a test). */
  open(): Promise<Store>
}

/** One suite, both engines: PGlite in a temp dir, and PostgreSQL at AUTORETRIEVE_TEST_POSTGRES_URL. */
export const engines: Record<'pglite' | 'postgres', (t: After) => Promise<Engine | { skip: string }>> = {
  pglite: async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ar-store-'))
    const opened: Store[] = []
    t.after(async () => {
      for (const s of opened) await s.close()
      await rm(dir, { recursive: true, force: true })
    })
    return {
      name: 'pglite',
      async open() {
        const store = await createStore({ dataDir: dir })
        opened.push(store)
        return store
      }
    }
  },
  postgres: async (t) => {
    const pg = await scratchPostgres(t)
    if ('skip' in pg) return pg
    const opened: Store[] = []
    // Whichever hook runs first, both hold: the drop is `with (force)` and close() tolerates it.
    t.after(async () => {
      for (const s of opened) await s.close()
    })
    return {
      name: 'postgres',
      async open() {
        const store = await createStore({ databaseUrl: pg.url })
        opened.push(store)
        return store
      }
    }
  }
}

/** Polls `check` every 25 ms until it holds, for at most `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`condition not met within ${ms} ms`)
}
