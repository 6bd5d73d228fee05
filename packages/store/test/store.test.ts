import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'drizzle-orm'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import postgres from 'postgres'
import { createStore, type Store } from '../src/index.ts'
import { engines, outage, scratchPostgres, waitFor } from './engines.ts'

const V0 = 'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk'
const V1 = CID.parse(V0).toV1().toString()

/** A config.yaml layer as the policy service stores it (lists, miner configs, protocols). */
function layerChange(cids: string[], file = '/etc/a/config.yaml', digest = `d-${cids.join(',')}`) {
  return {
    op: 'reload' as const,
    file,
    digest,
    layer: {
      cidBlacklist: cids,
      minerBlacklist: [],
      minerWhitelist: [],
      defaultMinerConfig: { retrievalTimeoutMs: 60_000, maxConcurrentRetrievals: 1, maxBytesPerSecond: 0 },
      minerConfigs: {},
      retrievalProtocols: ['http' as const]
    }
  }
}
const RELOAD = layerChange([])

async function appliedMigrations(store: Store): Promise<number> {
  const res = await store.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)
  const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<{ n: number }>
  return Number(rows[0].n)
}

for (const engine of ['pglite', 'postgres'] as const) {
  describe(`store on ${engine}`, () => {
    test('migrates a fresh database, answers ping, and re-opening applies nothing again', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const first = await e.open()
      assert.equal(first.kind, engine)
      await first.ping()
      assert.equal(await first.policy.currentVersion(), 0)
      const migrations = await appliedMigrations(first)
      assert.ok(migrations >= 1)
      const v = await first.policy.apply({ op: 'add', list: 'provider-deny', values: ['f01'] }, { origin: 'api' })
      await first.close()
      await assert.rejects(first.ping(), { name: 'StoreUnavailableError' })

      const second = await e.open()
      assert.equal(await appliedMigrations(second), migrations)
      assert.equal(await second.policy.currentVersion(), v.version)
      assert.equal((await second.policy.load()).entries[0].value, 'f01')
    })

    test('each policy change is one new version, and load reflects it with tombstones', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const a = await store.policy.apply(
        { op: 'add', list: 'cid-deny', values: [V0], reason: 'dmca' },
        { origin: 'api', reason: 'ticket 1' }
      )
      const b = await store.policy.apply(
        { op: 'add', list: 'provider-deny', values: ['f01234', 'f05678'] },
        { origin: 'api' }
      )
      const c = await store.policy.apply({ op: 'remove', list: 'cid-deny', values: [V1] }, { origin: 'api' })
      assert.deepEqual([a.version + 1, a.version + 2], [b.version, c.version])
      assert.equal(a.origin, 'api')
      assert.equal(a.reason, 'ticket 1')
      assert.ok(a.createdAt instanceof Date)

      const loaded = await store.policy.load()
      assert.equal(loaded.version, c.version)
      const cid = loaded.entries.filter((x) => x.list === 'cid-deny')
      assert.equal(cid.length, 1, 'CIDv0 and CIDv1 of one content are one entry')
      assert.equal(cid[0].state, 'removed', 'a removal is kept as a tombstone')
      assert.equal(cid[0].version, c.version)
      assert.equal(cid[0].key, base58btc.encode(CID.parse(V1).multihash.bytes), 'the key is the multihash, base58btc')
      assert.equal(cid[0].key, `z${V0}`, 'which for a CIDv0 is the CID with the multibase prefix')
      assert.ok(cid[0].changedAt instanceof Date)
      const providers = loaded.entries.filter((x) => x.list === 'provider-deny' && x.state === 'present')
      assert.deepEqual(providers.map((p) => p.key).sort(), ['f01234', 'f05678'])

      const history = await store.policy.history()
      assert.deepEqual(
        history.map((h) => h.version),
        [c.version, b.version, a.version]
      )
      assert.match(history[1].summary, /add 2 provider-deny/)
      assert.equal((await store.policy.history({ limit: 1 })).length, 1)
    })

    test('a CIDv0 and its CIDv1 in one request make one entry; a reload is a version with no entries', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      await store.policy.apply({ op: 'add', list: 'cid-deny', values: [V0, V1] }, { origin: 'api' })
      const r = await store.policy.apply(RELOAD, { origin: 'config' })
      const loaded = await store.policy.load()
      assert.equal(loaded.entries.length, 1)
      assert.equal(loaded.version, r.version)
      assert.equal((await store.policy.history({ limit: 1 }))[0].origin, 'config')
    })

    test('a config layer is stored with its version and origin; a start publishes, keeps or adopts it', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const a = layerChange([V0], '/a/config.yaml')
      const first = await store.policy.startLayer(a, { origin: 'startup', instance: 'edge-a' })
      assert.equal(first.action, 'published')
      assert.deepEqual(
        [first.layer.instance, first.layer.file, first.layer.layer.cidBlacklist],
        ['edge-a', '/a/config.yaml', [V0]]
      )
      // The same file again: no new version.
      const again = await store.policy.startLayer(a, { origin: 'startup', instance: 'edge-a' })
      assert.deepEqual([again.action, again.layer.version], ['unchanged', first.layer.version])
      assert.equal(await store.policy.currentVersion(), first.layer.version)
      // Another instance's different file: the stored layer stays, no new version.
      const b = layerChange([], '/b/config.yaml')
      const other = await store.policy.startLayer(b, { origin: 'startup', instance: 'edge-b' })
      assert.deepEqual(
        [other.action, other.layer.instance, other.layer.version],
        ['adopted', 'edge-a', first.layer.version]
      )
      // An API change on top keeps the layer and records who made it.
      const v = await store.policy.apply(
        { op: 'add', list: 'cid-deny', values: [V1], reason: 'x' },
        { origin: 'api', instance: 'edge-b' }
      )
      let loaded = await store.policy.load()
      assert.deepEqual(
        [loaded.layer?.version, loaded.change?.instance, loaded.change?.version],
        [first.layer.version, 'edge-b', v.version]
      )
      assert.equal(loaded.entries[0].instance, 'edge-b')
      // A reload by the other instance makes its file the layer in force, at a new version.
      const r = await store.policy.apply(b, { origin: 'config', instance: 'edge-b' })
      loaded = await store.policy.load()
      assert.deepEqual(
        [loaded.layer?.version, loaded.layer?.instance, loaded.layer?.layer.cidBlacklist],
        [r.version, 'edge-b', []]
      )
      // The first instance's own file, changed, at its next start: published again.
      const a2 = layerChange([V0, V1], '/a/config.yaml')
      const back = await store.policy.startLayer(a2, { origin: 'startup', instance: 'edge-a' })
      assert.equal(back.action, 'adopted', 'edge-b stored the layer last, so edge-a keeps it')
    })

    test('miner configs are set field by field and deleted as tombstones', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      await store.policy.apply(
        { op: 'set-miner-config', provider: 'f01234', config: { maxConcurrentRetrievals: 3 } },
        { origin: 'api' }
      )
      await store.policy.apply(
        { op: 'set-miner-config', provider: 'default', config: { retrievalTimeoutMs: 60_000, maxBytesPerSecond: 5e9 } },
        { origin: 'api' }
      )
      await store.policy.apply(
        { op: 'set-miner-config', provider: 'f09', config: { maxPricePerByte: '12', maxRetrievalCost: 'none' } },
        { origin: 'api' }
      )
      const del = await store.policy.apply({ op: 'delete-miner-config', provider: 'f05678' }, { origin: 'api' })
      const { minerConfigs } = await store.policy.load()
      const caps = minerConfigs.find((m) => m.provider === 'f09')!
      assert.deepEqual([caps.maxPricePerByte, caps.maxUnsealPrice, caps.maxRetrievalCost], ['12', null, 'none'])
      const set = minerConfigs.find((m) => m.provider === 'f01234')!
      assert.equal(set.maxConcurrentRetrievals, 3)
      assert.equal(set.retrievalTimeoutMs, null)
      assert.equal(set.state, 'present')
      const def = minerConfigs.find((m) => m.provider === 'default')!
      assert.deepEqual([def.retrievalTimeoutMs, def.maxBytesPerSecond], [60_000, 5e9])
      const { changedAt: _at, ...removed } = minerConfigs.find((m) => m.provider === 'f05678')!
      assert.deepEqual(removed, {
        provider: 'f05678',
        retrievalTimeoutMs: null,
        maxConcurrentRetrievals: null,
        maxBytesPerSecond: null,
        maxPricePerByte: null,
        maxUnsealPrice: null,
        maxRetrievalCost: null,
        state: 'removed',
        version: del.version,
        instance: ''
      })
    })

    test('concurrent changes get distinct, gapless versions and load sees them all', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const made = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.policy.apply({ op: 'add', list: 'provider-deny', values: [`f0${i}`] }, { origin: 'api' })
        )
      )
      const versions = made.map((v) => v.version).sort((x, y) => x - y)
      assert.deepEqual(
        versions,
        Array.from({ length: 10 }, (_, i) => versions[0] + i)
      )
      const loaded = await store.policy.load()
      assert.equal(loaded.version, versions[9])
      assert.equal(loaded.entries.length, 10)
    })

    test('the change feed tells this instance at once, each version once', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      await store.changes.start()
      const seen: number[] = []
      const unsubscribe = store.changes.subscribe((v) => seen.push(v))
      const v = await store.policy.apply(RELOAD, { origin: 'config' })
      // With PostgreSQL our own NOTIFY comes back too: give it time to arrive, and be ignored.
      // (A window, not a stand-in for an event: what is checked is that nothing more arrives.)
      await waitFor(() => seen.includes(v.version), 2000)
      await sleep(100)
      assert.deepEqual(seen, [v.version])
      unsubscribe()
      await store.policy.apply(RELOAD, { origin: 'config' })
      assert.deepEqual(seen, [v.version])
    })

    test('an aborted signal stops an operation before it starts', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const signal = AbortSignal.abort()
      await assert.rejects(store.policy.apply(RELOAD, { origin: 'api' }, { signal }), { name: 'AbortError' })
      await assert.rejects(store.retrievals.list({}, { signal }), { name: 'AbortError' })
      await assert.rejects(store.ping({ signal }), { name: 'AbortError' })
      assert.equal(await store.policy.currentVersion(), 0)
    })
  })
}

describe('migrations that fail', () => {
  // A table in the way makes the first migration's CREATE TABLE fail, on either engine.
  const blocker = 'create table policy_versions (something_else text)'

  test('on PGlite: createStore throws MigrationError', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ar-store-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const pg = new PGlite(join(dir, 'db'))
    await pg.exec(blocker)
    await pg.close()
    await assert.rejects(createStore({ dataDir: dir }), { name: 'MigrationError', code: 'ERR_STORE_MIGRATION' })
  })

  test('on PostgreSQL: createStore throws MigrationError', async (t) => {
    const pg = await scratchPostgres(t)
    if ('skip' in pg) return t.skip(pg.skip)
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} })
    await sql.unsafe(blocker)
    await sql.end({ timeout: 1 })
    await assert.rejects(createStore({ databaseUrl: pg.url }), { name: 'MigrationError', code: 'ERR_STORE_MIGRATION' })
  })
})

describe('change feed across instances (PostgreSQL)', () => {
  test('a change made by one Store reaches another on the same database within a second', async (t) => {
    const pg = await scratchPostgres(t)
    if ('skip' in pg) return t.skip(pg.skip)
    const a = await createStore({ databaseUrl: pg.url })
    const b = await createStore({ databaseUrl: pg.url })
    t.after(async () => {
      await a.close()
      await b.close()
    })
    await b.changes.start()
    const got = new Promise<number>((resolve) => b.changes.subscribe(resolve))
    const v = await a.policy.apply({ op: 'add', list: 'cid-deny', values: [V0] }, { origin: 'api' })
    let timer: NodeJS.Timeout | undefined
    const seen = await Promise.race([
      got,
      new Promise<number>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no notification within 1 s')), 1000)
      })
    ])
    clearTimeout(timer)
    assert.equal(seen, v.version)
    assert.equal((await b.policy.load()).entries.length, 1)
  })

  test('after an outage the feed LISTENs again and reports the version it missed', async (t) => {
    const pg = await scratchPostgres(t)
    if ('skip' in pg) return t.skip(pg.skip)
    const a = await createStore({ databaseUrl: pg.url })
    const b = await createStore({ databaseUrl: pg.url })
    t.after(async () => {
      await a.close()
      await b.close()
    })
    await b.changes.start()
    const seen: number[] = []
    b.changes.subscribe((v) => seen.push(v))
    await a.policy.currentVersion() // a has a live pooled connection that the outage leaves alone

    // B's LISTEN connection is killed and cannot come back; meanwhile A makes a change.
    const down = await outage(pg.url, 'listeners')
    let ended = false
    t.after(async () => {
      if (!ended) await down.end()
    })
    const v = await a.policy.apply({ op: 'add', list: 'provider-deny', values: ['f0999'] }, { origin: 'api' })
    // A window for several failed re-LISTEN attempts (100 ms backing off): what is checked is that
    // nothing arrives in it, so there is no event to wait on instead.
    await sleep(500)
    assert.equal(seen.length, 0, 'the notification was sent while nobody listened')

    await down.end()
    ended = true
    await waitFor(() => seen.includes(v.version), 10_000)
    // And the feed is live again for new changes.
    const w = await a.policy.apply(RELOAD, { origin: 'config' })
    await waitFor(() => seen.includes(w.version), 2000)
  })
})

test('a database URL that does not answer is a StoreUnavailableError naming the host, not a hang', async () => {
  await assert.rejects(createStore({ databaseUrl: 'postgres://postgres:secret@127.0.0.1:1/none' }), (err: Error) => {
    assert.equal(err.name, 'StoreUnavailableError')
    assert.equal((err as { code?: string }).code, 'ERR_STORE_UNAVAILABLE')
    assert.match(err.message, /127\.0\.0\.1:1/)
    assert.doesNotMatch(err.message, /secret/, 'the password is not in the message')
    return true
  })
})

test('an in-memory store (no URL, no data dir) works and is PGlite', async (t) => {
  const store = await createStore({ databaseUrl: '' })
  t.after(() => store.close())
  assert.equal(store.kind, 'pglite')
  await store.ping()
})
