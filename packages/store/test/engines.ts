import { randomBytes } from 'node:crypto'
import postgres from 'postgres'

const ADMIN_URL = process.env.AUTORETRIEVE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A scratch PostgreSQL database for this test file, or undefined (with the reason) when none answers. */
export async function scratchPostgres(t: {
  after(fn: () => Promise<void>): void
}): Promise<{ url: string } | { skip: string }> {
  const admin = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await admin`select 1`
  } catch (err) {
    await admin.end({ timeout: 1 }).catch(() => {})
    return { skip: `PostgreSQL not reachable at ${ADMIN_URL} (${(err as Error).message}); PGlite only` }
  }
  const name = `autoretrieve_test_${randomBytes(6).toString('hex')}`
  await admin.unsafe(`create database ${name}`)
  t.after(async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
    await admin.end({ timeout: 1 })
  })
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return { url: url.toString() }
}

/** Kills every other session on the database (a database outage as clients see it). */
export async function terminateConnections(url: string): Promise<void> {
  const db = new URL(url).pathname.slice(1)
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} })
  try {
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${db} and pid <> pg_backend_pid()`
  } finally {
    await admin.end({ timeout: 1 })
  }
}
