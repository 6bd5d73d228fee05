import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createStore } from '@autoretrieve/store'
import {
  createUnixfsFixture,
  type ProviderFault,
  type ProviderStandIn,
  startIndexer,
  startProvider,
  type UnixfsFixture
} from '@autoretrieve/testkit'
import type { CID } from 'multiformats/cid'
import { catFile, cliEnv, heliaClient, scratchDatabase, startDaemon, tempDataDir } from './helpers.ts'

// Graphsync end to end: the indexer names only graphsync (0x0910) providers, the node retrieves
// from them as it would from Boost (free data-transfer deal over graphsync 2.0.0), and a real Helia
// client gets the file over Bitswap from the node.

type After = { after(fn: () => Promise<unknown>): void }

async function graphsyncProvider(t: After, cars: Uint8Array[], fault: ProviderFault = 'none') {
  const p = await startProvider({ cars, protocols: ['graphsync'], fault })
  t.after(() => p.close())
  return p
}

const graphsyncRecord = (p: ProviderStandIn) => ({
  peerId: p.peerId,
  addrs: p.multiaddrs,
  protocols: ['graphsync' as const],
  graphsync: { verifiedDeal: true, fastRetrieval: true }
})

async function startNode(t: After, indexerUrl: string, extra: Record<string, string> = {}, configYaml?: string) {
  const dataDir = await tempDataDir(t)
  if (configYaml !== undefined) {
    await mkdir(dataDir, { recursive: true })
    await writeFile(join(dataDir, 'config.yaml'), configYaml)
  }
  return startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexerUrl, ...extra }))
}

/** The newest retrieval of a root as the store explains it, once it has ended (bounded wait). */
async function finishedRetrieval(databaseUrl: string, t: After, root: CID) {
  const store = await createStore({ databaseUrl })
  t.after(() => store.close())
  const deadline = Date.now() + 5_000
  for (;;) {
    const why = await store.retrievals.explain(root.toString())
    const r = why.retrievals[0]
    if ((r !== undefined && r.status !== 'running') || Date.now() > deadline) return r
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('a miss is retrieved over graphsync from a Boost-like provider and reaches a Helia client', async (t) => {
  const fixture = await createUnixfsFixture({ size: 3 * 1024 * 1024, chunkSize: 256 * 1024, seed: 51 })
  const p = await graphsyncProvider(t, [fixture.car])
  const indexer = await startIndexer({ providers: [graphsyncRecord(p)] })
  t.after(() => indexer.close())
  const node = await startNode(t, indexer.url)
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.equal(p.stats.graphsyncAccepted, 1, 'one deal for the whole DAG')
  assert.equal(p.stats.httpRequests, 0)
  // Boost sends the data-transfer Complete on a stream of its own once the response is full.
  const deadline = Date.now() + 5_000
  while (p.stats.completesSent < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  assert.equal(p.stats.completesSent, 1, 'the node accepted the Complete message')

  const metrics = await (await fetch(`${node.adminUrl}/metrics`)).text()
  assert.match(metrics, /^autoretrieve_retrieval_protocol_success_total\{protocol="graphsync"\} 1$/m)
  // Asking again is a cache hit: the provider sees no second request.
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.equal(p.stats.graphsyncRequests, 1)
})

/**
 * n distinct roots on one graphsync provider, wanted at once by two Helia clients (alternating).
 * The provider is paced (2 MiB/s) so that the retrievals overlap rather than finish one by one.
 */
async function concurrentRoots(t: After, n: number, seed: number) {
  const fixtures: UnixfsFixture[] = []
  for (let i = 0; i < n; i++)
    fixtures.push(await createUnixfsFixture({ size: 512 * 1024, chunkSize: 128 * 1024, seed: seed + i }))
  const p = await graphsyncProvider(
    t,
    fixtures.map((f) => f.car),
    `slow:${2 * 1024 * 1024}`
  )
  const indexer = await startIndexer({ providers: [graphsyncRecord(p)] })
  t.after(() => indexer.close())
  // The Go default allows one retrieval per provider at a time; this provider takes n.
  const node = await startNode(t, indexer.url, {}, `default-miner-config:\n  max-concurrent-retrievals: ${n}\n`)
  const clients = [await heliaClient(t, node.multiaddrs), await heliaClient(t, node.multiaddrs)]
  const got = await Promise.all(fixtures.map((f, i) => catFile(clients[i % 2], f.root, 60_000)))
  for (const [i, f] of fixtures.entries()) assert.deepEqual(got[i], Buffer.from(f.bytes), `root ${i}`)
  assert.equal(p.stats.graphsyncAccepted, n, 'one deal per root')
  return p
}

test('two retrievals of different roots from one graphsync provider at once both complete', async (t) => {
  const p = await concurrentRoots(t, 2, 520)
  assert.equal(p.stats.graphsyncMaxInFlight, 2, 'the two ran side by side, not one after the other')
})

test('ten retrievals of different roots from one graphsync provider at once all complete', async (t) => {
  const p = await concurrentRoots(t, 10, 530)
  assert.ok(p.stats.graphsyncMaxInFlight >= 5, `${p.stats.graphsyncMaxInFlight} in flight at most`)
})

for (const [fault, errorClass] of [
  ['reject', 'rejected'],
  ['too-many-deals', 'too_many_deals'],
  ['truncate', 'incomplete'],
  ['wrong-block', 'unexpected_block']
] as const) {
  test(`graphsync failover: a provider that fails with ${fault} is recorded as ${errorClass}, the next one serves`, async (t) => {
    const databaseUrl = await scratchDatabase(t)
    if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
    const fixture = await createUnixfsFixture({ size: 1024 * 1024, chunkSize: 128 * 1024, seed: 540 })
    const bad = await graphsyncProvider(t, [fixture.car], fault)
    const good = await graphsyncProvider(t, [fixture.car])
    // The bad provider is listed first and scores the same, so it is tried first.
    const indexer = await startIndexer({ providers: [graphsyncRecord(bad), graphsyncRecord(good)] })
    t.after(() => indexer.close())
    const node = await startNode(t, indexer.url, { AUTORETRIEVE_DATABASE_URL: databaseUrl })
    assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))

    const retrieval = await finishedRetrieval(databaseUrl, t, fixture.root)
    assert.equal(retrieval?.status, 'success')
    const byProvider = Object.fromEntries(retrieval.attempts.map((a) => [a.provider, [a.outcome, a.errorClass]]))
    assert.deepEqual(byProvider[bad.peerId], ['failed', errorClass])
    assert.deepEqual(byProvider[good.peerId], ['success', null])
    const metrics = await (await fetch(`${node.adminUrl}/metrics`)).text()
    assert.match(metrics, /^autoretrieve_retrieval_protocol_success_total\{protocol="graphsync"\} 1$/m)
  })
}

test('a graphsync provider that rejects, with no other candidate: the want is refused as retrieval_failed', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const fixture = await createUnixfsFixture({ size: 300_000, chunkSize: 100_000, seed: 550 })
  const bad = await graphsyncProvider(t, [fixture.car], 'reject')
  const indexer = await startIndexer({ providers: [graphsyncRecord(bad)] })
  t.after(() => indexer.close())
  const node = await startNode(t, indexer.url, { AUTORETRIEVE_DATABASE_URL: databaseUrl })
  await assert.rejects(catFile(await heliaClient(t, node.multiaddrs), fixture.root, 5_000))
  const retrieval = await finishedRetrieval(databaseUrl, t, fixture.root)
  assert.equal(retrieval?.status, 'failed')
  assert.equal(retrieval.reason, 'retrieval_failed')
  const [attempt] = retrieval.attempts
  assert.equal(attempt.errorClass, 'rejected')
  assert.match(attempt.errorMessage ?? '', /no unsealed piece/, "the provider's own words are kept")
})
