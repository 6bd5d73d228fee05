import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { CID } from 'multiformats/cid'
import { createStore, type RecordEvent, type Store } from '../src/index.ts'
import { scratchPostgres } from './engines.ts'

const V0 = 'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk'
const V1 = CID.parse(V0).toV1().toString()

type Opener = (t: { after(fn: () => Promise<void>): void }) => Promise<Store | { skip: string }>

const engines: Record<string, Opener> = {
  pglite: async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ar-store-'))
    const store = await createStore({ dataDir: dir })
    t.after(async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    })
    return store
  },
  postgres: async (t) => {
    const pg = await scratchPostgres(t)
    if ('skip' in pg) return pg
    const store = await createStore({ databaseUrl: pg.url })
    t.after(() => store.close())
    return store
  }
}

for (const [engine, open] of Object.entries(engines)) {
  describe(`store on ${engine}`, () => {
    test('migrates a fresh database and answers ping', async (t) => {
      const store = await open(t)
      if ('skip' in store) return t.skip(store.skip)
      assert.equal(store.kind, engine)
      await store.ping()
      assert.equal(await store.policy.currentVersion(), 0)
    })

    test('each policy change is one new version, and load reflects it with tombstones', async (t) => {
      const store = await open(t)
      if ('skip' in store) return t.skip(store.skip)
      const a = await store.policy.apply(
        { op: 'add', list: 'cid-deny', values: [V0], reason: 'dmca' },
        { origin: 'api' }
      )
      const b = await store.policy.apply(
        { op: 'add', list: 'provider-deny', values: ['f01234', 'f05678'] },
        { origin: 'api' }
      )
      const c = await store.policy.apply({ op: 'remove', list: 'cid-deny', values: [V1] }, { origin: 'api' })
      assert.deepEqual([a.version + 1, a.version + 2], [b.version, c.version])
      const loaded = await store.policy.load()
      assert.equal(loaded.version, c.version)
      const cid = loaded.entries.filter((e) => e.list === 'cid-deny')
      assert.equal(cid.length, 1, 'CIDv0 and CIDv1 of one content are one entry')
      assert.equal(cid[0].state, 'removed')
      assert.equal(loaded.entries.filter((e) => e.list === 'provider-deny' && e.state === 'present').length, 2)
      const history = await store.policy.history()
      assert.deepEqual(
        history.map((h) => h.version),
        [c.version, b.version, a.version]
      )
      assert.match(history[1].summary, /add 2 provider-deny/)
    })

    test('miner configs are set field by field and deleted as tombstones', async (t) => {
      const store = await open(t)
      if ('skip' in store) return t.skip(store.skip)
      await store.policy.apply(
        { op: 'set-miner-config', provider: 'f01234', config: { maxConcurrentRetrievals: 3 } },
        { origin: 'api' }
      )
      await store.policy.apply({ op: 'delete-miner-config', provider: 'f05678' }, { origin: 'api' })
      const { minerConfigs } = await store.policy.load()
      const set = minerConfigs.find((m) => m.provider === 'f01234')!
      assert.equal(set.maxConcurrentRetrievals, 3)
      assert.equal(set.retrievalTimeoutMs, null)
      assert.equal(minerConfigs.find((m) => m.provider === 'f05678')?.state, 'removed')
    })

    test('the change feed tells this instance at once', async (t) => {
      const store = await open(t)
      if ('skip' in store) return t.skip(store.skip)
      await store.changes.start()
      const seen: number[] = []
      store.changes.subscribe((v) => seen.push(v))
      const v = await store.policy.apply({ op: 'reload' }, { origin: 'config' })
      assert.ok(seen.includes(v.version))
    })

    test('records round-trip: upserts by id, filters, keyset pagination, explain by multihash', async (t) => {
      const store = await open(t)
      if ('skip' in store) return t.skip(store.skip)
      const base = Date.parse('2026-01-01T00:00:00Z')
      const events: RecordEvent[] = []
      const ids: string[] = []
      for (let i = 0; i < 7; i++) {
        const id = randomUUID()
        ids.push(id)
        const at = new Date(base + i * 1000)
        events.push({
          type: 'retrieval-started',
          id,
          rootCid: i === 3 ? V1 : `bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm`,
          requestedCid: i === 3 ? V1 : 'x',
          requestedBy: ['12D3KooWpeer'],
          policyVersion: 1,
          at
        })
        events.push({
          type: 'candidates',
          retrievalId: id,
          source: 'ipni',
          candidates: [
            { provider: 'p1', protocols: ['http'], addrs: [], verdict: 'accepted', reason: null, policyVersion: 1 },
            {
              provider: 'p2',
              protocols: ['bitswap'],
              addrs: [],
              verdict: 'dropped',
              reason: 'denied_provider',
              policyVersion: 1
            }
          ],
          at
        })
        const attempt = {
          type: 'attempt' as const,
          id: randomUUID(),
          retrievalId: id,
          provider: i % 2 === 0 ? 'p1' : 'p3',
          protocol: 'http' as const,
          startedAt: at,
          connectedAt: null,
          firstByteAt: null,
          endedAt: null,
          bytes: 0,
          blocks: 0,
          outcome: 'running' as const,
          errorClass: null,
          errorMessage: null
        }
        events.push(attempt)
        events.push({
          ...attempt,
          outcome: i === 5 ? 'failed' : 'success',
          bytes: 100,
          blocks: 2,
          endedAt: at,
          errorClass: i === 5 ? 'timeout' : null
        })
        events.push({
          type: 'retrieval-finished',
          id,
          status: i === 5 ? 'failed' : 'success',
          reason: i === 5 ? 'timeout' : null,
          bytes: 100,
          blocks: 2,
          at
        })
      }
      events.push({
        type: 'refusal',
        cid: V0,
        peer: '12D3KooWpeer',
        reason: 'blacklisted_cid',
        policyVersion: 4,
        at: new Date(base)
      })
      await store.retrievals.write(events.slice(0, 12))
      await store.retrievals.write(events.slice(12))
      await store.retrievals.write(events.slice(12)) // a retried batch changes nothing

      const page1 = await store.retrievals.list({ limit: 3 })
      assert.deepEqual(
        page1.items.map((r) => r.id),
        [ids[6], ids[5], ids[4]]
      )
      const page2 = await store.retrievals.list({ limit: 3, cursor: page1.nextCursor! })
      assert.deepEqual(
        page2.items.map((r) => r.id),
        [ids[3], ids[2], ids[1]]
      )
      const page3 = await store.retrievals.list({ limit: 3, cursor: page2.nextCursor! })
      assert.deepEqual(
        page3.items.map((r) => r.id),
        [ids[0]]
      )
      assert.equal(page3.nextCursor, null)
      assert.deepEqual(
        (await store.retrievals.list({ status: 'failed' })).items.map((r) => r.id),
        [ids[5]]
      )
      assert.equal((await store.retrievals.list({ provider: 'p3' })).items.length, 3)
      await assert.rejects(store.retrievals.list({ cursor: 'garbage' }), { name: 'InvalidCursorError' })

      const detail = await store.retrievals.get(ids[5])
      assert.equal(detail?.status, 'failed')
      assert.equal(detail?.attempts.length, 1)
      assert.equal(detail?.attempts[0].errorClass, 'timeout')
      assert.equal(detail?.candidates.find((c) => c.provider === 'p2')?.reason, 'denied_provider')
      assert.equal(await store.retrievals.get(randomUUID()), null)

      const why = await store.retrievals.explain(V0)
      assert.deepEqual(
        why.retrievals.map((r) => r.id),
        [ids[3]]
      )
      assert.equal(why.refusals[0].reason, 'blacklisted_cid')
    })
  })
}

test('two instances on one PostgreSQL database see each other’s policy changes within a second', async (t) => {
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
  const started = Date.now()
  const v = await a.policy.apply({ op: 'add', list: 'cid-deny', values: [V0] }, { origin: 'api' })
  const seen = await Promise.race([
    got,
    new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no notification in 1 s')), 1000))
  ])
  assert.equal(seen, v.version)
  assert.ok(Date.now() - started < 1000)
  assert.equal((await b.policy.load()).entries.length, 1)
})

test('re-opening the embedded database keeps its data and re-applies no migration', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ar-store-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const first = await createStore({ dataDir: dir })
  const v = await first.policy.apply({ op: 'add', list: 'provider-deny', values: ['f01'] }, { origin: 'api' })
  await first.close()
  const second = await createStore({ dataDir: dir })
  t.after(() => second.close())
  assert.equal(await second.policy.currentVersion(), v.version)
  assert.equal((await second.policy.load()).entries[0].value, 'f01')
})

test('a bad database URL is a StoreUnavailableError naming the host, not a hang', async () => {
  await assert.rejects(createStore({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' }), (err: Error) => {
    assert.equal(err.name, 'StoreUnavailableError')
    assert.match(err.message, /127\.0\.0\.1:1/)
    return true
  })
})
