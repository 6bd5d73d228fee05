import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createBlockCache } from '@autoretrieve/blockcache'
import { createFilecoinRetrievalTransport, QueryResponseStatus } from '@autoretrieve/filecoin'
import { silentLogger } from '@autoretrieve/interface'
import { createSnapshot } from '@autoretrieve/policy'
import { createIpniSource } from '@autoretrieve/routing'
import {
  type BoostAsk,
  createUnixfsFixture,
  type ProviderStandIn,
  startIndexer,
  startProvider
} from '@autoretrieve/testkit'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { createGraphsyncAdapter, createRetriever, type QueryPhaseSummary, type RetrievalRecord } from '../src/index.ts'
import { rankByAsk } from '../src/query-phase.ts'
import { DEFAULTS } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

const ask = (minPricePerByte: bigint, unsealPrice: bigint, size = 100n) => ({
  status: QueryResponseStatus.Available,
  pieceCidFound: 0,
  size,
  paymentAddress: new Uint8Array(0),
  minPricePerByte,
  maxPaymentInterval: 0n,
  maxPaymentIntervalIncrease: 0n,
  message: '',
  unsealPrice
})
const candidate = (peerId: string) => ({
  peerId,
  addrs: [],
  protocols: ['graphsync' as const],
  httpUrls: [],
  rootCid: 'bafkqaaa',
  source: 'ipni' as const
})

test('ranking: free and unsealed first, then total cost; no terms last; ties keep score order', () => {
  const order = rankByAsk([
    { candidate: candidate('no-terms'), index: 0 },
    { candidate: candidate('unseal-cheap-total'), ask: ask(0n, 1n), index: 1 },
    { candidate: candidate('per-byte-3'), ask: ask(3n, 0n), index: 2 },
    { candidate: candidate('free-b'), ask: ask(0n, 0n), index: 4 },
    { candidate: candidate('per-byte-1'), ask: ask(1n, 0n), index: 5 },
    { candidate: candidate('free-a'), ask: ask(0n, 0n), index: 3 }
  ]).map((c) => c.peerId)
  // An unseal price of 1 attoFIL still ranks after any unsealed copy (Go: zero unseal price first).
  assert.deepEqual(order, ['free-a', 'free-b', 'per-byte-1', 'per-byte-3', 'unseal-cheap-total', 'no-terms'])
})

async function setup(t: After, providers: ProviderStandIn[], paidRetrievals: boolean) {
  const dir = await mkdtemp(join(tmpdir(), 'ar-query-'))
  const cache = createBlockCache({}, { path: dir })
  await cache.start()
  const indexer = await startIndexer({
    providers: providers.map((p) => ({ peerId: p.peerId, addrs: p.multiaddrs, protocols: ['graphsync' as const] }))
  })
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const records: RetrievalRecord[] = []
  const summaries: QueryPhaseSummary[] = []
  const retriever = createRetriever(
    {
      cache,
      policy: () => createSnapshot({ version: 1, defaultMinerConfig: DEFAULTS }),
      candidates: createIpniSource({}, { endpointUrl: indexer.url, timeoutMs: 3_000 }),
      adapters: [
        createGraphsyncAdapter({
          libp2p,
          graphsync: createFilecoinRetrievalTransport({ libp2p: libp2p as never, logger: silentLogger })
        })
      ],
      records: { record: (r) => records.push(r) },
      events: { onQueries: (s) => summaries.push(s) }
    },
    { paidRetrievals }
  )
  t.after(async () => {
    await libp2p.stop()
    await indexer.close()
    await cache.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return { retriever, records, summaries }
}

async function providerWith(t: After, car: Uint8Array, ask: BoostAsk) {
  const p = await startProvider({ cars: [car], protocols: ['graphsync'], ask })
  t.after(() => p.close())
  return p
}

const attemptsOf = (records: RetrievalRecord[]) =>
  Object.fromEntries(
    records.flatMap((r) =>
      r.type === 'attempt' && r.outcome !== 'running' ? [[r.provider, [r.outcome, r.errorClass]]] : []
    )
  )

test('paid-retrievals off: priced and unavailable asks get no proposal; a hanging query does not hold the free one', async (t) => {
  const fixture = await createUnixfsFixture({ size: 512 * 1024, chunkSize: 64 * 1024, seed: 1602 })
  const priced = await providerWith(t, fixture.car, { pricePerByte: 1n })
  const unavailable = await providerWith(t, fixture.car, { queryMode: 'unavailable' })
  const hanging = await providerWith(t, fixture.car, { queryMode: 'hang' })
  const free = await providerWith(t, fixture.car, {})
  const { retriever, records, summaries } = await setup(t, [priced, unavailable, hanging, free], false)
  const started = performance.now()
  const result = await retriever.retrieve(fixture.root)
  const ms = performance.now() - started
  assert.equal(result.ok, true)
  assert.equal(result.ok && result.provider, free.peerId)
  // The query timeout is 5 s: the free provider was not made to wait for the hanging one.
  assert.ok(ms < 3_000, `retrieved in ${Math.round(ms)} ms`)
  assert.deepEqual(
    [priced, unavailable, hanging, free].map((p) => p.stats.proposalsReceived),
    [0, 0, 0, 1]
  )
  const byProvider = attemptsOf(records)
  assert.deepEqual(byProvider[priced.peerId], ['failed', 'paid_not_allowed'])
  assert.deepEqual(byProvider[unavailable.peerId], ['failed', 'query_unavailable'])
  assert.deepEqual(byProvider[free.peerId], ['success', null])
  assert.equal(byProvider[hanging.peerId], undefined, 'cut short when the race was won: neither tried nor passed over')
  for (let i = 0; i < 50 && summaries.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual(summaries, [
    { asked: 4, answered: 3, accepted: 1, failures: [], passedOver: ['paid_not_allowed', 'query_unavailable'] }
  ])
})

test('paid-retrievals on: the free unsealed ask is proposed to first, before cheaper-listed priced ones', async (t) => {
  const fixture = await createUnixfsFixture({ size: 256 * 1024, chunkSize: 64 * 1024, seed: 1603 })
  const unsealing = await providerWith(t, fixture.car, { unsealPrice: 5n })
  const perByte = await providerWith(t, fixture.car, { pricePerByte: 1n })
  const free = await providerWith(t, fixture.car, {})
  const { retriever } = await setup(t, [unsealing, perByte, free], true)
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, free.peerId)
  assert.deepEqual(
    [unsealing, perByte, free].map((p) => p.stats.proposalsReceived),
    [0, 0, 1]
  )
})

test('a provider without the query protocol is still proposed to; one whose query errors is passed over', async (t) => {
  const fixture = await createUnixfsFixture({ size: 256 * 1024, chunkSize: 64 * 1024, seed: 1604 })
  const erroring = await providerWith(t, fixture.car, { queryMode: 'error' })
  const plain = await providerWith(t, fixture.car, { queryMode: 'none' })
  const { retriever, records } = await setup(t, [erroring, plain], false)
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, plain.peerId)
  assert.equal(erroring.stats.proposalsReceived, 0)
  assert.deepEqual(attemptsOf(records)[erroring.peerId], ['failed', 'query_failed'])
})
