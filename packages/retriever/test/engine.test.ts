import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkDag } from '@autoretrieve/dag'
import { createUnixfsFixture, type ProviderFault, startProvider } from '@autoretrieve/testkit'
import type { RetrievalRecord } from '../src/index.ts'
import { indexed, setup } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

async function provider(
  t: After,
  car: Uint8Array | Uint8Array[],
  fault: ProviderFault = 'none',
  protocols: Array<'http' | 'bitswap'> = ['http', 'bitswap']
) {
  const p = await startProvider({ cars: Array.isArray(car) ? car : [car], protocols, fault })
  t.after(() => p.close())
  return p
}

const attempts = (events: RetrievalRecord[]) =>
  events.filter(
    (e): e is Extract<RetrievalRecord, { type: 'attempt' }> => e.type === 'attempt' && e.outcome !== 'running'
  )

test('retrieves a whole multi-MiB DAG over HTTP into the cache, every block verified', async (t) => {
  const fixture = await createUnixfsFixture({ size: 3 * 1024 * 1024, chunkSize: 256 * 1024, seed: 21 })
  const p = await provider(t, fixture.car)
  const { retriever, cache, events } = await setup(t, indexed(p, ['http']))
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok, true, JSON.stringify(result))
  const check = await checkDag(fixture.root, (cid) => cache.get(cid))
  assert.deepEqual([check.complete, check.blocks], [true, fixture.blocks.length])
  assert.equal(p.stats.httpRequests, 1)
  assert.deepEqual(
    attempts(events).map((a) => [a.protocol, a.outcome, a.blocks]),
    [['http', 'success', fixture.blocks.length]]
  )
  assert.equal(events.find((e) => e.type === 'retrieval-finished')?.type, 'retrieval-finished')
})

test('retrieves over Bitswap from a booster-bitswap stand-in, and resumes without asking for cached blocks', async (t) => {
  const fixture = await createUnixfsFixture({ size: 2 * 1024 * 1024, chunkSize: 128 * 1024, seed: 22 })
  const p = await provider(t, fixture.car, 'none', ['bitswap'])
  const { retriever, cache } = await setup(t, indexed(p, ['bitswap']))
  // Half the leaves are cached already (an earlier attempt got that far).
  const cached = fixture.blocks.slice(1, 9)
  for (const b of cached) await cache.put(b.cid, b.bytes)
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.equal((await checkDag(fixture.root, (cid) => cache.get(cid))).complete, true)
  assert.equal(p.stats.bitswapWants, fixture.blocks.length - cached.length, 'cached blocks were not asked for again')
})

test('fails over past a wrong block, a cut stream, a 500 and a 404, and records each error class', async (t) => {
  const fixture = await createUnixfsFixture({ size: 1024 * 1024, chunkSize: 128 * 1024, seed: 23 })
  const bad = [
    await provider(t, fixture.car, 'wrong-block', ['http']),
    await provider(t, fixture.car, 'truncate', ['http']),
    await provider(t, fixture.car, 'status500', ['http']),
    await provider(t, fixture.car, 'status404', ['http'])
  ]
  const good = await provider(t, fixture.car, 'none', ['http'])
  const { retriever, events, cache } = await setup(
    t,
    [...bad, good].flatMap((p) => indexed(p, ['http']))
  )
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.equal(result.ok && result.provider, good.peerId)
  const classes = attempts(events)
    .filter((a) => a.outcome === 'failed')
    .map((a) => a.errorClass)
    .sort()
  assert.deepEqual(classes, ['http_status', 'http_status', 'incomplete', 'wrong_block'])
  assert.equal((await checkDag(fixture.root, (cid) => cache.get(cid))).complete, true)
})

test('when every provider fails the reason is retrieval_failed, with each attempt kept', async (t) => {
  const fixture = await createUnixfsFixture({ size: 300_000, chunkSize: 100_000, seed: 24 })
  const a = await provider(t, fixture.car, 'status500', ['http'])
  const b = await provider(t, fixture.car, 'wrong-block', ['http'])
  const { retriever } = await setup(t, [...indexed(a), ...indexed(b)])
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok, false)
  assert.equal(!result.ok && result.reason, 'retrieval_failed')
  assert.equal(!result.ok && result.error.name, 'RetrievalFailedError')
  assert.equal(!result.ok && (result.error as AggregateError).errors.length, 2)
})

test('no candidates, a garbage indexer answer, an indexer 500, an unreachable indexer and a denied provider each give their own reason', async (t) => {
  const fixture = await createUnixfsFixture({ size: 200_000, chunkSize: 100_000, seed: 25 })
  const p = await provider(t, fixture.car, 'none', ['http'])
  const { retriever, indexer, setPolicy } = await setup(t, [])
  const none = await retriever.retrieve(fixture.root)
  assert.equal(!none.ok && none.reason, 'no_candidates')
  indexer.setProviders(indexed(p))
  indexer.setFault('garbage')
  const garbage = await retriever.retrieve(fixture.root)
  assert.equal(!garbage.ok && garbage.reason, 'indexer_failed')
  assert.equal(!garbage.ok && garbage.error.name, 'IndexerResponseError')
  indexer.setFault('status500')
  const status500 = await retriever.retrieve(fixture.root)
  assert.equal(!status500.ok && status500.reason, 'indexer_failed')
  assert.match(!status500.ok ? status500.error.message : '', /HTTP 500/)
  indexer.setFault('none')
  setPolicy({ deniedProviders: [{ provider: p.peerId, origin: 'api' }] })
  const denied = await retriever.retrieve(fixture.root)
  assert.equal(!denied.ok && denied.reason, 'all_filtered')
  assert.equal(p.stats.httpRequests, 0, 'a denied provider is never contacted')
})

test('an allow list limits retrieval to its members', async (t) => {
  const fixture = await createUnixfsFixture({ size: 200_000, chunkSize: 100_000, seed: 26 })
  const outsider = await provider(t, fixture.car, 'none', ['http'])
  const member = await provider(t, fixture.car, 'none', ['http'])
  const { retriever } = await setup(t, [...indexed(outsider), ...indexed(member)], {
    allowedProviders: [{ provider: member.peerId, origin: 'config' }]
  })
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, member.peerId)
  assert.equal(outsider.stats.httpRequests, 0)
})

test('20 concurrent retrievals of distinct roots on one provider never exceed its max-concurrent-retrievals', async (t) => {
  const fixtures = await Promise.all(
    Array.from({ length: 20 }, (_, i) => createUnixfsFixture({ size: 50_000, chunkSize: 25_000, seed: 100 + i }))
  )
  const p = await provider(
    t,
    fixtures.map((f) => f.car),
    'delay:30',
    ['http']
  )
  const { retriever } = await setup(t, indexed(p), {
    minerConfigs: [
      {
        provider: p.peerId,
        origin: 'config',
        retrievalTimeoutMs: 10_000,
        maxConcurrentRetrievals: 3,
        maxBytesPerSecond: 0
      }
    ]
  })
  const results = await Promise.all(fixtures.map((f) => retriever.retrieve(f.root)))
  assert.ok(results.every((r) => r.ok))
  assert.ok(p.stats.maxInFlight <= 3, `max in flight ${p.stats.maxInFlight}`)
  assert.ok(p.stats.maxInFlight >= 2, 'the limit, not serial code, bounded it')
})

test('the global limit holds across providers', async (t) => {
  const fixtures = await Promise.all(
    Array.from({ length: 6 }, (_, i) => createUnixfsFixture({ size: 50_000, chunkSize: 25_000, seed: 200 + i }))
  )
  const a = await provider(
    t,
    fixtures.slice(0, 3).map((f) => f.car),
    'delay:30',
    ['http']
  )
  const b = await provider(
    t,
    fixtures.slice(3).map((f) => f.car),
    'delay:30',
    ['http']
  )
  const { retriever, indexer } = await setup(t, [], {}, { maxConcurrentRetrievals: 2 })
  indexer.setProviders([
    ...indexed(a).map((r) => ({ ...r, cids: fixtures.slice(0, 3).map((f) => f.root.toString()) })),
    ...indexed(b).map((r) => ({ ...r, cids: fixtures.slice(3).map((f) => f.root.toString()) }))
  ])
  let active = 0
  let peak = 0
  const sampler = setInterval(() => {
    active = a.stats.inFlight + b.stats.inFlight
    peak = Math.max(peak, active)
  }, 2)
  t.after(async () => clearInterval(sampler))
  const results = await Promise.all(fixtures.map((f) => retriever.retrieve(f.root)))
  assert.ok(results.every((r) => r.ok))
  assert.ok(peak <= 2, `peak ${peak}`)
})

test('retrieval-timeout is an inactivity timeout: a provider that goes quiet fails with reason timeout', async (t) => {
  const fixture = await createUnixfsFixture({ size: 200_000, chunkSize: 100_000, seed: 27 })
  const p = await provider(t, fixture.car, 'delay:3000', ['http'])
  const { retriever } = await setup(t, indexed(p), {
    defaultMinerConfig: { retrievalTimeoutMs: 300, maxConcurrentRetrievals: 0, maxBytesPerSecond: 0 }
  })
  const result = await retriever.retrieve(fixture.root)
  assert.equal(!result.ok && result.reason, 'timeout')
})

test('two waiters for one root share one retrieval; one leaving does not cancel it for the other', async (t) => {
  const fixture = await createUnixfsFixture({ size: 500_000, chunkSize: 100_000, seed: 28 })
  const p = await provider(t, fixture.car, 'delay:100', ['http'])
  const { retriever } = await setup(t, indexed(p))
  const leaving = new AbortController()
  const first = retriever.retrieve(fixture.root, { signal: leaving.signal })
  const second = retriever.retrieve(fixture.root)
  leaving.abort()
  await assert.rejects(first)
  const result = await second
  assert.equal(result.ok, true)
  assert.equal(p.stats.httpRequests, 1)
})

test('max-bytes-per-second caps a provider', async (t) => {
  const fixture = await createUnixfsFixture({ size: 400_000, chunkSize: 100_000, seed: 29 })
  const p = await provider(t, fixture.car, 'none', ['http'])
  const { retriever } = await setup(t, indexed(p), {
    defaultMinerConfig: { retrievalTimeoutMs: 5_000, maxConcurrentRetrievals: 0, maxBytesPerSecond: 1_000_000 }
  })
  const started = Date.now()
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok, true)
  assert.ok(Date.now() - started >= 300, 'about 0.4 MB at 1 MB/s takes at least 0.3 s')
})

test('a provider at its max-concurrent-retrievals is passed over for the next candidate, not waited for (Go’s rule)', async (t) => {
  const x = await createUnixfsFixture({ size: 100_000, chunkSize: 50_000, seed: 310 })
  const y = await createUnixfsFixture({ size: 100_000, chunkSize: 50_000, seed: 311 })
  // Listed first and slow: the retrieval of x holds its one slot for ~1.5 s.
  const busy = await provider(t, [x.car, y.car], 'delay:1500', ['http'])
  // Holds only y: with candidates of one protocol raced a stagger apart, a second holder of x
  // would win x's retrieval from the slow provider.
  const free = await provider(t, [y.car], 'none', ['http'])
  const { retriever, events } = await setup(t, [...indexed(busy), ...indexed(free)], {
    minerConfigs: [
      {
        provider: busy.peerId,
        origin: 'config',
        retrievalTimeoutMs: 10_000,
        maxConcurrentRetrievals: 1,
        maxBytesPerSecond: 0
      }
    ]
  })
  const first = retriever.retrieve(x.root)
  // Once x's attempt holds the slot, y finds the provider busy and goes to the next one at once.
  const deadline = Date.now() + 5_000
  while (busy.stats.inFlight === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  const second = await retriever.retrieve(y.root)
  assert.equal(second.ok && second.provider, free.peerId)
  assert.equal(busy.stats.inFlight, 1, 'y did not wait for x to finish')
  const done = await first
  assert.equal(done.ok && done.provider, busy.peerId)
  assert.equal(busy.stats.httpRequests, 1)
  // Skipping a busy provider is not a failure of it: no attempt is recorded for it.
  assert.equal(attempts(events).filter((a) => a.provider === busy.peerId).length, 1)
})

test('a busy provider that is the only candidate left is waited for', async (t) => {
  const x = await createUnixfsFixture({ size: 100_000, chunkSize: 50_000, seed: 312 })
  const y = await createUnixfsFixture({ size: 100_000, chunkSize: 50_000, seed: 313 })
  const only = await provider(t, [x.car, y.car], 'delay:300', ['http'])
  const { retriever } = await setup(t, indexed(only), {
    defaultMinerConfig: { retrievalTimeoutMs: 10_000, maxConcurrentRetrievals: 1, maxBytesPerSecond: 0 }
  })
  const results = await Promise.all([retriever.retrieve(x.root), retriever.retrieve(y.root)])
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, true]
  )
  assert.equal(only.stats.maxInFlight, 1)
})
