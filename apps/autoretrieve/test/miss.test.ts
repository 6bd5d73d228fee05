import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createStore } from '@autoretrieve/store'
import {
  createUnixfsFixture,
  type ProviderFault,
  type ProviderStandIn,
  startIndexer,
  startProvider
} from '@autoretrieve/testkit'
import { catFile, cliEnv, heliaClient, scratchDatabase, startDaemon, tempDataDir } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

async function provider(
  t: After,
  car: Uint8Array,
  fault: ProviderFault = 'none',
  protocols: Array<'http' | 'bitswap'> = ['http']
) {
  const p = await startProvider({ cars: [car], protocols, fault })
  t.after(() => p.close())
  return p
}

const record = (p: ProviderStandIn, protocol: 'http' | 'bitswap') => ({
  peerId: p.peerId,
  addrs: protocol === 'http' ? [p.httpMultiaddr!] : p.multiaddrs,
  protocols: [protocol]
})

async function startNode(t: After, indexerUrl: string, extra: Record<string, string> = {}) {
  const dataDir = await tempDataDir(t)
  return startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexerUrl, ...extra }))
}

test('a miss is retrieved from an HTTP provider and streamed to a Helia client; asking again is a cache hit', async (t) => {
  const fixture = await createUnixfsFixture({ size: 3 * 1024 * 1024, chunkSize: 256 * 1024, seed: 31 })
  const p = await provider(t, fixture.car)
  const indexer = await startIndexer({ providers: [record(p, 'http')] })
  t.after(() => indexer.close())
  const node = await startNode(t, indexer.url)
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.equal(p.stats.httpRequests, 1)
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.equal(p.stats.httpRequests, 1, 'the second client was served from the cache')

  // The metrics tell the same story: one successful HTTP retrieval, then cache hits.
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text()
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.eE+-]+|NaN|[+-]Inf)$/.exec(line)
    assert.ok(m, `not Prometheus text: ${line}`)
    samples.set(m[1], Number(m[2]))
  }
  assert.equal(samples.get('autoretrieve_retrieval_deal_success_total'), 1)
  assert.equal(samples.get('autoretrieve_retrieval_protocol_success_total{protocol="http"}'), 1)
  assert.equal(samples.get('autoretrieve_retrieval_deal_active'), 0)
  assert.ok((samples.get('autoretrieve_blockstore_cache_hit_total') ?? 0) >= fixture.blocks.length)
  assert.ok((samples.get('autoretrieve_bitswap_request_total') ?? 0) >= 2 * fixture.blocks.length)
  assert.ok((samples.get('autoretrieve_cache_bytes') ?? 0) >= fixture.bytes.byteLength)
  for (const name of [
    'autoretrieve_bitswap_response_total',
    'autoretrieve_indexer_candidates_per_request_total_count',
    'autoretrieve_event_loop_utilization'
  ]) {
    assert.ok(
      [...samples.keys()].some((k) => k.startsWith(name)),
      `${name} missing`
    )
  }
})

test('a miss is retrieved from a Bitswap-only provider', async (t) => {
  const fixture = await createUnixfsFixture({ size: 2 * 1024 * 1024, chunkSize: 256 * 1024, seed: 32 })
  const p = await provider(t, fixture.car, 'none', ['bitswap'])
  const indexer = await startIndexer({ providers: [record(p, 'bitswap')] })
  t.after(() => indexer.close())
  const node = await startNode(t, indexer.url)
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.ok(p.stats.bitswapWants >= fixture.blocks.length)
})

test('failover past a provider sending a wrong block; records tell the same story', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const fixture = await createUnixfsFixture({ size: 1024 * 1024, chunkSize: 256 * 1024, seed: 33 })
  const bad = await provider(t, fixture.car, 'wrong-block')
  const good = await provider(t, fixture.car)
  const indexer = await startIndexer({ providers: [record(bad, 'http'), record(good, 'http')] })
  t.after(() => indexer.close())
  const node = await startNode(t, indexer.url, { AUTORETRIEVE_DATABASE_URL: databaseUrl })
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))

  const store = await createStore({ databaseUrl })
  t.after(() => store.close())
  const deadline = Date.now() + 5_000
  let why = await store.retrievals.explain(fixture.root.toString())
  while (why.retrievals[0]?.status !== 'success' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    why = await store.retrievals.explain(fixture.root.toString())
  }
  const [retrieval] = why.retrievals
  assert.equal(retrieval.status, 'success')
  assert.deepEqual(new Set(retrieval.candidates.map((c) => c.provider)), new Set([bad.peerId, good.peerId]))
  const byProvider = Object.fromEntries(retrieval.attempts.map((a) => [a.provider, [a.outcome, a.errorClass]]))
  assert.deepEqual(byProvider[bad.peerId], ['failed', 'wrong_block'])
  assert.deepEqual(byProvider[good.peerId], ['success', null])
})

test('with no candidates the want is refused with reason no_candidates, recorded', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const fixture = await createUnixfsFixture({ size: 100_000, chunkSize: 50_000, seed: 34 })
  const indexer = await startIndexer({ providers: [] })
  t.after(() => indexer.close())
  const node = await startNode(t, indexer.url, { AUTORETRIEVE_DATABASE_URL: databaseUrl })
  const helia = await heliaClient(t, node.multiaddrs)
  await assert.rejects(catFile(helia, fixture.root, 3_000))
  const store = await createStore({ databaseUrl })
  t.after(() => store.close())
  const why = await store.retrievals.explain(fixture.root.toString())
  assert.equal(why.retrievals[0]?.reason, 'no_candidates')
  assert.ok(why.refusals.some((r) => r.reason === 'no_candidates'))
})
