import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { EMBEDDED_SETTINGS, pgliteVersion, SEED_FILE, SEED_INFO_FILE } from '../src/embedded.ts'
import { createStore, MIGRATIONS_FOLDER, type Store } from '../src/index.ts'

async function rows<T>(store: Store, query: ReturnType<typeof sql>): Promise<T[]> {
  const res = await store.db.execute(query)
  return (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as T[]
}

/** initdb gives every cluster a random system identifier: equal identifiers mean the seed was loaded. */
async function systemId(store: Store): Promise<string> {
  const [r] = await rows<{ id: string }>(store, sql`select system_identifier::text as id from pg_control_system()`)
  return r.id
}

async function seedSystemId(file = SEED_FILE): Promise<string> {
  const pg = new PGlite({ loadDataDir: new Blob([await readFile(file)]) })
  try {
    const res = await pg.query<{ id: string }>('select system_identifier::text as id from pg_control_system()')
    return res.rows[0].id
  } finally {
    await pg.close()
  }
}

const journalEntries = async () =>
  (JSON.parse(await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')).entries as unknown[]).length

async function tempDir(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'ar-embedded-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('the shipped seed was made by the installed PGlite, and a first start loads it and migrates', async (t) => {
  const info = JSON.parse(await readFile(SEED_INFO_FILE, 'utf8'))
  assert.equal(
    info.pglite,
    await pgliteVersion(),
    'seed/pgdata.tar.gz is from another PGlite: run `pnpm --filter @autoretrieve/store make-seed`'
  )
  const dir = await tempDir(t)
  const store = await createStore({ dataDir: dir })
  t.after(() => store.close())
  assert.equal(await systemId(store), await seedSystemId(), 'the data dir is the seed, not a fresh initdb')
  const [m] = await rows<{ n: number }>(store, sql`select count(*)::int as n from drizzle.__drizzle_migrations`)
  assert.equal(m.n, await journalEntries(), 'every migration ran after the seed was loaded')
  // The lean settings are in force on a seeded directory.
  const [sb] = await rows<{ s: string }>(store, sql`select current_setting('shared_buffers') as s`)
  assert.equal(sb.s, EMBEDDED_SETTINGS.shared_buffers)
})

test('a seed made by another PGlite version is not loaded: initdb runs, with a warning, and the store works', async (t) => {
  const dir = await tempDir(t)
  const seed = join(dir, 'old.tar.gz')
  await copyFile(SEED_FILE, seed)
  await writeFile(join(dir, 'old.json'), JSON.stringify({ pglite: '0.0.1' }))
  const warnings: unknown[] = []
  const logger = { debug() {}, info() {}, warn: (o: unknown) => warnings.push(o), error() {} }
  const store = await createStore({ dataDir: join(dir, 'node'), seedFile: seed, logger: logger as never })
  t.after(() => store.close())
  assert.notEqual(await systemId(store), await seedSystemId(), 'the old seed was not loaded')
  assert.equal(warnings.length, 1)
  assert.equal(await store.policy.currentVersion(), 0)
})

test('a dump older than the migrations folder still migrates to the current schema', async (t) => {
  const dir = await tempDir(t)
  // A migrations folder one migration short: the dump is made from a database migrated with it.
  const old = join(dir, 'migrations-old')
  await cp(MIGRATIONS_FOLDER, old, { recursive: true })
  const journal = JSON.parse(await readFile(join(old, 'meta', '_journal.json'), 'utf8'))
  journal.entries.pop()
  await writeFile(join(old, 'meta', '_journal.json'), JSON.stringify(journal))
  const before = await createStore({ dataDir: join(dir, 'a'), migrationsFolder: old })
  const [n] = await rows<{ n: number }>(before, sql`select count(*)::int as n from drizzle.__drizzle_migrations`)
  assert.equal(n.n, journal.entries.length)
  await before.policy.apply({ op: 'add', list: 'provider-deny', values: ['f01'] }, { origin: 'api' })
  await before.close()
  const dumper = await PGlite.create(join(dir, 'a', 'db'))
  const dump = await dumper.dumpDataDir('gzip')
  await dumper.close()
  await writeFile(join(dir, 'older.tar.gz'), Buffer.from(await dump.arrayBuffer()))
  await writeFile(join(dir, 'older.json'), JSON.stringify({ pglite: await pgliteVersion() }))

  const store = await createStore({ dataDir: join(dir, 'b'), seedFile: join(dir, 'older.tar.gz') })
  t.after(() => store.close())
  const [m] = await rows<{ n: number }>(store, sql`select count(*)::int as n from drizzle.__drizzle_migrations`)
  assert.equal(m.n, await journalEntries(), 'the missing migration ran on top of the dump')
  assert.equal(await store.policy.currentVersion(), 1, "the dump's rows are there")
})

test('two stores on one data dir in one process share one PGlite; the last close closes it', async (t) => {
  const dir = await tempDir(t)
  const a = await createStore({ dataDir: dir })
  const b = await createStore({ dataDir: dir })
  await a.policy.apply({ op: 'add', list: 'provider-deny', values: ['f01'] }, { origin: 'api' })
  assert.equal(await b.policy.currentVersion(), 1, 'b sees what a wrote at once')
  await a.close()
  await b.ping()
  await b.policy.apply({ op: 'add', list: 'provider-deny', values: ['f02'] }, { origin: 'api' })
  await b.close()
  await assert.rejects(b.ping(), { name: 'StoreUnavailableError' })
  const c = await createStore({ dataDir: dir })
  t.after(() => c.close())
  assert.equal(await c.policy.currentVersion(), 2)
})

test('what a killed node wrote is there on the next start (no durability traded for memory)', async (t) => {
  const dir = await tempDir(t)
  const storeIndex = new URL('../src/index.ts', import.meta.url).href
  // The child writes, says so, and is killed with SIGKILL: no close, no checkpoint.
  const script = `
    const { createStore } = await import(${JSON.stringify(storeIndex)})
    const store = await createStore({ dataDir: ${JSON.stringify(dir)} })
    for (const v of ['f01', 'f02', 'f03']) await store.policy.apply({ op: 'add', list: 'provider-deny', values: [v] }, { origin: 'api' })
    process.stdout.write('written\\n')
    setInterval(() => {}, 1000)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => {
    child.kill('SIGKILL')
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child did not write within 120 s')), 120_000)
    child.stdout.on('data', (d) => {
      if (String(d).includes('written')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`the child exited with ${code}`)))
  })
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGKILL')
  await exited
  const store = await createStore({ dataDir: dir })
  t.after(() => store.close())
  assert.equal(await store.policy.currentVersion(), 3)
})
