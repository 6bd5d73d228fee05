import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createBlockCache } from '@autoretrieve/blockcache'
import { formatAddress } from '@autoretrieve/chain'
import { createFilecoinRetrievalTransport, queryProvider } from '@autoretrieve/filecoin'
import { silentLogger } from '@autoretrieve/interface'
import { createSnapshot, type MinerConfig, type MinerConfigEntry } from '@autoretrieve/policy'
import { createIpniSource } from '@autoretrieve/routing'
import {
  type BoostAsk,
  createUnixfsFixture,
  type LotusStandIn,
  type ProviderStandIn,
  startIndexer,
  startLotus,
  startProvider
} from '@autoretrieve/testkit'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { CID } from 'multiformats/cid'
import { createGraphsyncAdapter, createRetriever, type RetrievalPayments, type RetrievalRecord } from '../src/index.ts'
import { startGreedyProvider } from './greedy-provider.ts'
import { DEFAULTS } from './helpers.ts'
import { memoryPayments } from './payments.ts'

// Paid retrievals through the retriever: the caps pass a provider over before any proposal
// (price_too_high), and what is paid is recorded on the attempt and the retrieval.

type After = { after(fn: () => Promise<unknown>): void }

/** attoFIL caps as the policy carries them (max-price-per-byte, max-unseal-price, max-retrieval-cost). */
type Caps = Pick<MinerConfig, 'maxPricePerByte' | 'maxUnsealPrice' | 'maxRetrievalCost'>

async function setup(
  t: After,
  providers: Array<Pick<ProviderStandIn, 'peerId' | 'multiaddrs'>>,
  parts: {
    payments?: RetrievalPayments
    caps?: Caps
    minerCaps?: Record<string, Caps>
    /** How long a demand may wait for the bytes that justify it. */
    paymentWaitMs?: number
  }
) {
  const dir = await mkdtemp(join(tmpdir(), 'ar-paid-'))
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
  const defaultMinerConfig = { ...DEFAULTS, ...parts.caps }
  // A miner-configs entry (by peer ID) replaces the default config for that provider.
  const minerConfigs = Object.entries(parts.minerCaps ?? {}).map(
    ([provider, caps]): MinerConfigEntry => ({ ...DEFAULTS, ...caps, provider, origin: 'config' })
  )
  const retriever = createRetriever(
    {
      cache,
      policy: () => createSnapshot({ version: 1, defaultMinerConfig, minerConfigs }),
      candidates: createIpniSource({}, { endpointUrl: indexer.url, timeoutMs: 3_000 }),
      adapters: [
        createGraphsyncAdapter(
          {
            libp2p,
            graphsync: createFilecoinRetrievalTransport({ libp2p: libp2p as never, logger: silentLogger })
          },
          { ...(parts.paymentWaitMs !== undefined ? { paymentWaitMs: parts.paymentWaitMs } : {}) }
        )
      ],
      records: { record: (r) => records.push(r) },
      ...(parts.payments !== undefined ? { payments: parts.payments } : {})
    },
    { paidRetrievals: true }
  )
  t.after(async () => {
    await libp2p.stop()
    await indexer.close()
    await cache.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return { retriever, records }
}

async function providerWith(t: After, car: Uint8Array, ask: BoostAsk, lotus?: LotusStandIn) {
  const p = await startProvider({
    cars: [car],
    protocols: ['graphsync'],
    ask,
    ...(lotus !== undefined ? { lotus: lotus.apiInfo } : {})
  })
  t.after(() => p.close())
  return p
}

/** The Lotus stand-in the paid provider checks vouchers with, and our payments create channels on. */
async function lotusStandIn(t: After): Promise<LotusStandIn> {
  const lotus = await startLotus({ epochMs: 10 })
  t.after(() => lotus.close())
  return lotus
}

/** The Size a provider's query answers with (the stand-in's: its blocks' bytes). */
async function askedSize(p: ProviderStandIn, root: CID): Promise<bigint> {
  const client = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  try {
    const ask = await queryProvider(
      (protocol, options) => client.dialProtocol(multiaddr(p.multiaddrs[0]), protocol, options),
      root
    )
    return ask.size
  } finally {
    await client.stop()
  }
}

/** The error message of a provider's failed attempt. */
function messageOf(records: RetrievalRecord[], p: { peerId: string }): string {
  for (const r of records)
    if (r.type === 'attempt' && r.provider === p.peerId && r.outcome === 'failed') return r.errorMessage ?? ''
  return ''
}

const attemptsOf = (records: RetrievalRecord[]) =>
  Object.fromEntries(
    records.flatMap((r) =>
      r.type === 'attempt' && r.outcome !== 'running' ? [[r.provider, [r.outcome, r.errorClass]]] : []
    )
  )

test('over a cap or over what is left today, a priced provider is passed over price_too_high: no proposal, no lane', async (t) => {
  const fixture = await createUnixfsFixture({ size: 256 * 1024, chunkSize: 64 * 1024, seed: 1611 })
  const perByte = await providerWith(t, fixture.car, { pricePerByte: 3n })
  const unseal = await providerWith(t, fixture.car, { unsealPrice: 5_000n })
  const total = await providerWith(t, fixture.car, { pricePerByte: 2n, unsealPrice: 1_000n })
  const overToday = await providerWith(t, fixture.car, { pricePerByte: 1n })
  const free = await providerWith(t, fixture.car, {})
  const size = await askedSize(free, fixture.root)
  const payments = memoryPayments({ maxSpendPerDay: size * 2n })
  payments.spentToday = size * 2n - 10n // 10 attoFIL left today
  const { retriever, records } = await setup(t, [perByte, unseal, total, overToday, free], {
    payments,
    // `total` is within both prices, but its 2 × Size + 1000 is 1 attoFIL over the retrieval cap.
    caps: { maxPricePerByte: 2n, maxUnsealPrice: 1_000n, maxRetrievalCost: 2n * size + 999n }
  })
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, free.peerId)
  assert.equal(result.cost, undefined, 'nothing paid')
  assert.deepEqual(
    [perByte, unseal, total, overToday, free].map((p) => p.stats.proposalsReceived),
    [0, 0, 0, 0, 1]
  )
  const byProvider = attemptsOf(records)
  for (const p of [perByte, unseal, total, overToday])
    assert.deepEqual(byProvider[p.peerId], ['failed', 'price_too_high'])
  assert.match(messageOf(records, perByte), /asks 3 attoFIL per byte, over 2/)
  assert.match(messageOf(records, unseal), /asks 5000 attoFIL to unseal, over 1000/)
  assert.match(messageOf(records, total), new RegExp(`over max-retrieval-cost ${2n * size + 999n}`))
  assert.match(messageOf(records, overToday), /over the 10 left of max-spend-per-day today/)
  assert.deepEqual(payments.lanesOpened, [])
})

test('with paid retrievals on and no payment channels, a priced provider is passed over paych', async (t) => {
  const fixture = await createUnixfsFixture({ size: 64 * 1024, chunkSize: 16 * 1024, seed: 1612 })
  const priced = await providerWith(t, fixture.car, { pricePerByte: 1n })
  const free = await providerWith(t, fixture.car, {})
  const { retriever, records } = await setup(t, [priced, free], {})
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, free.peerId)
  assert.equal(priced.stats.proposalsReceived, 0)
  assert.deepEqual(attemptsOf(records)[priced.peerId], ['failed', 'paych'])
})

test('a per-miner cap (miner-configs) overrides the default for that provider only', async (t) => {
  const fixture = await createUnixfsFixture({ size: 64 * 1024, chunkSize: 16 * 1024, seed: 1613 })
  const capped = await providerWith(t, fixture.car, { pricePerByte: 1n })
  const free = await providerWith(t, fixture.car, {})
  const payments = memoryPayments()
  const { retriever, records } = await setup(t, [capped, free], {
    payments,
    caps: { maxPricePerByte: 10n },
    minerCaps: { [capped.peerId]: { maxPricePerByte: 0n } }
  })
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, free.peerId)
  assert.equal(capped.stats.proposalsReceived, 0)
  assert.deepEqual(attemptsOf(records)[capped.peerId], ['failed', 'price_too_high'])
  assert.match(messageOf(records, capped), /asks 1 attoFIL per byte, over 0/)
})

const PRICE = 2n
const INTERVAL = 64n * 1024n
const INCREASE = 32n * 1024n

test('a priced provider is paid as verified bytes arrive: the DAG is retrieved and what it cost is recorded', async (t) => {
  const lotus = await lotusStandIn(t)
  const fixture = await createUnixfsFixture({ size: 384 * 1024, chunkSize: 16 * 1024, seed: 1614 })
  const dagBytes = fixture.blocks.reduce((n, b) => n + BigInt(b.bytes.byteLength), 0n)
  const priced = await providerWith(
    t,
    fixture.car,
    { pricePerByte: PRICE, paymentInterval: INTERVAL, paymentIntervalIncrease: INCREASE },
    lotus
  )
  const payments = memoryPayments({ lotusApiInfo: lotus.apiInfo })
  const { retriever, records } = await setup(t, [priced], { payments })
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, priced.peerId, result.ok ? '' : result.error.message)
  const cost = dagBytes * PRICE
  assert.equal(result.cost, cost, 'every verified byte at its price, nothing more')
  // The provider accepted every voucher (checked and added through Lotus), each a nonce up on one lane.
  assert.equal(priced.stats.vouchersRejected, 0)
  assert.equal(priced.stats.amountPaid, cost)
  assert.ok(
    priced.stats.vouchersReceived >= 3,
    `${priced.stats.vouchersReceived} payments: one per interval and the last`
  )
  assert.deepEqual(
    payments.vouchers.map((v) => v.nonce),
    payments.vouchers.map((_, i) => BigInt(i + 1))
  )
  const amounts = payments.vouchers.map((v) => v.amount)
  assert.deepEqual(
    amounts,
    [...amounts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    'cumulative, rising'
  )
  assert.equal(amounts.at(-1), cost)
  assert.deepEqual(payments.lanesOpened, [
    { provider: priced.peerId, paymentAddress: priced.paymentAddress, maxAmount: cost }
  ])
  const attempt = records.find((r) => r.type === 'attempt' && r.outcome === 'success')
  assert.ok(attempt?.type === 'attempt')
  assert.equal(attempt.cost, String(cost))
  assert.equal(attempt.paymentChannel, formatAddress(payments.channel))
  const finished = records.find((r) => r.type === 'retrieval-finished')
  assert.ok(finished?.type === 'retrieval-finished')
  assert.equal(finished.cost, String(cost))
  assert.equal(lotus.channel(formatAddress(payments.channel))?.balance, cost, 'the channel holds what was promised')
})

test('the unseal price is paid first, before any block comes', async (t) => {
  const lotus = await lotusStandIn(t)
  const fixture = await createUnixfsFixture({ size: 128 * 1024, chunkSize: 16 * 1024, seed: 1615 })
  const dagBytes = fixture.blocks.reduce((n, b) => n + BigInt(b.bytes.byteLength), 0n)
  const unsealing = await providerWith(
    t,
    fixture.car,
    { pricePerByte: 1n, unsealPrice: 7_000n, paymentInterval: INTERVAL, paymentIntervalIncrease: INCREASE },
    lotus
  )
  const payments = memoryPayments({ lotusApiInfo: lotus.apiInfo })
  const { retriever } = await setup(t, [unsealing], { payments })
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok, true, result.ok ? '' : result.error.message)
  assert.equal(result.cost, 7_000n + dagBytes)
  // The first voucher is exactly the unseal price: no byte had been verified (nor sent) yet.
  assert.equal(payments.vouchers[0].amount, 7_000n)
  assert.equal(unsealing.stats.vouchersRejected, 0)
})

for (const demandOn of ['extension', 'stream'] as const) {
  test(`a provider asking to be paid ahead of its data (the demand ${demandOn === 'stream' ? 'on a data-transfer stream of its own' : 'in a Graphsync extension'}) is not paid: overcharged`, async (t) => {
    const fixture = await createUnixfsFixture({ size: 128 * 1024, chunkSize: 16 * 1024, seed: 1617 })
    const greedy = await startGreedyProvider({
      blocks: fixture.blocks,
      root: fixture.root,
      pricePerByte: PRICE,
      paymentInterval: INTERVAL,
      demandOn
    })
    t.after(() => greedy.close())
    const payments = memoryPayments()
    const { retriever, records } = await setup(t, [greedy], { payments, paymentWaitMs: 300 })
    const result = await retriever.retrieve(fixture.root)
    assert.equal(result.ok, false)
    assert.deepEqual(attemptsOf(records)[greedy.peerId], ['failed', 'overcharged'])
    // The payer heard the demand (wherever it came from) and held it against the verified bytes.
    assert.match(messageOf(records, greedy), new RegExp(`asks ${PRICE * INTERVAL} attoFIL in all for 0 verified bytes`))
    assert.equal(greedy.vouchers, 0, 'nothing was paid ahead of the bytes')
    assert.deepEqual(payments.vouchers, [])
    assert.equal(result.cost, undefined)
  })
}
