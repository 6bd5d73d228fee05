import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  type BoostAsk,
  createUnixfsFixture,
  type LotusStandIn,
  type ProviderFault,
  type ProviderStandIn,
  startIndexer,
  startLotus,
  startProvider
} from '@autoretrieve/testkit'
import type { CID } from 'multiformats/cid'
import {
  adminApi,
  catFile,
  cliEnv,
  type DaemonHandle,
  heliaClient,
  runCli,
  scratchDatabase,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

// Issue 16's "done when": with paid-retrievals on, a wallet from `autoretrieve wallet new` and the
// Lotus stand-in, a Helia client gets a DAG from a priced Graphsync provider through the node; the
// record shows what it cost; a node killed mid-retrieval reuses no voucher nonce when it retries
// (the provider's Lotus refuses a reused one); a provider over the caps is passed over; and with
// paid retrievals off a priced provider is never sent a proposal.

type After = { after(fn: () => Promise<unknown>): void }

const PRICE = 2n
const UNSEAL = 1_000n
const INTERVAL = 64n * 1024n
const INCREASE = 32n * 1024n

async function lotusStandIn(t: After): Promise<LotusStandIn> {
  const lotus = await startLotus({ epochMs: 20 })
  t.after(() => lotus.close())
  return lotus
}

async function pricedProvider(t: After, car: Uint8Array, ask: BoostAsk, lotus: LotusStandIn, fault?: ProviderFault) {
  const p = await startProvider({
    cars: [car],
    protocols: ['graphsync'],
    ask,
    lotus: lotus.apiInfo,
    ...(fault !== undefined ? { fault } : {})
  })
  t.after(() => p.close())
  return p
}

const record = (p: ProviderStandIn) => ({ peerId: p.peerId, addrs: p.multiaddrs, protocols: ['graphsync' as const] })

/** A data dir with a wallet made by `autoretrieve wallet new` and a config.yaml; the wallet's address. */
async function payingNodeDir(t: After & { skip(m: string): void }, env: NodeJS.ProcessEnv, yaml: string) {
  const dataDir = await tempDataDir(t)
  const made = await runCli(['--data-dir', dataDir, 'wallet', 'new'], env)
  assert.equal(made.code, 0, made.stderr)
  const { address } = JSON.parse(made.stdout) as { address: string }
  await writeFile(join(dataDir, 'config.yaml'), yaml, { mode: 0o600 })
  return { dataDir, wallet: address }
}

interface Attempt {
  provider: string
  outcome: string
  errorClass: string | null
  cost?: string | null
  paymentChannel?: string | null
}
interface Retrieval {
  id: string
  status: string
  cost: string | null
  attempts?: Attempt[]
}

/** The node's last finished retrieval of `root`, with its attempts, as GET /api/v1/retrievals gives it. */
async function finishedRetrieval(node: DaemonHandle, root: CID): Promise<Retrieval> {
  const listed = await until(
    `a finished retrieval of ${root}`,
    async () => (await adminApi<{ items: Retrieval[] }>(node, 'GET', `/api/v1/retrievals?cid=${root}`)).body.items,
    (items) => items.some((r) => r.status !== 'running')
  )
  const done = listed.find((r) => r.status !== 'running')!
  // Attempts reach the database in batches behind the finish record: wait for the one that succeeded.
  return until(
    'its attempts',
    async () => (await adminApi<Retrieval>(node, 'GET', `/api/v1/retrievals/${done.id}`)).body,
    (r) => done.status !== 'success' || (r.attempts ?? []).some((a) => a.outcome === 'success')
  )
}

const dagBytesOf = (blocks: Array<{ bytes: Uint8Array }>) => blocks.reduce((n, b) => n + BigInt(b.bytes.byteLength), 0n)

test('paid: a Helia client gets the DAG from a priced provider through the node, the record shows its cost, a provider over the caps gets no proposal', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const lotus = await lotusStandIn(t)
  const fixture = await createUnixfsFixture({ size: 256 * 1024, chunkSize: 16 * 1024, seed: 1620 })
  const cost = dagBytesOf(fixture.blocks) * PRICE + UNSEAL
  const terms = { paymentInterval: INTERVAL, paymentIntervalIncrease: INCREASE }
  // Over max-price-per-byte (5): listed first, it would be proposed to first without the caps.
  const overCap = await pricedProvider(t, fixture.car, { pricePerByte: 6n, ...terms }, lotus)
  const priced = await pricedProvider(t, fixture.car, { pricePerByte: PRICE, unsealPrice: UNSEAL, ...terms }, lotus)
  const indexer = await startIndexer({ providers: [record(overCap), record(priced)] })
  t.after(() => indexer.close())
  const env = cliEnv({
    FULLNODE_API_INFO: lotus.apiInfo,
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url
  })
  const { dataDir, wallet } = await payingNodeDir(
    t,
    env,
    'paid-retrievals: true\nmax-price-per-byte: "5"\nmax-unseal-price: "0.000001 FIL"\n'
  )
  const node = await startDaemon(t, dataDir, env)

  const helia = await heliaClient(t, node.multiaddrs)
  assert.deepEqual(await catFile(helia, fixture.root), Buffer.from(fixture.bytes))

  // The retrieval ends once the last payment is made (after the last block reached the client).
  const retrieval = await finishedRetrieval(node, fixture.root)
  assert.equal(retrieval.status, 'success')
  assert.equal(retrieval.cost, String(cost), 'the record shows what it cost, in attoFIL')

  assert.equal(overCap.stats.queriesAnswered, 1, 'asked its terms')
  assert.equal(overCap.stats.proposalsReceived, 0, 'no proposal over the caps')
  assert.equal(priced.stats.proposalsReceived, 1)
  // Paid as it went: the unseal price first, then each interval, then the last payment; every
  // voucher checked and added by the provider's Lotus.
  assert.equal(priced.stats.vouchersRejected, 0)
  assert.ok(priced.stats.vouchersReceived >= 3, `${priced.stats.vouchersReceived} vouchers`)
  assert.equal(priced.stats.amountPaid, cost)

  const byProvider = Object.fromEntries((retrieval.attempts ?? []).map((a) => [a.provider, a]))
  assert.equal(byProvider[overCap.peerId]?.errorClass, 'price_too_high')
  assert.equal(byProvider[priced.peerId]?.outcome, 'success')
  assert.equal(byProvider[priced.peerId]?.cost, String(cost))
  const channel = byProvider[priced.peerId]?.paymentChannel
  assert.match(String(channel), /^[ft]2[a-z2-7]+$/)
  // The channel on chain runs from the node's wallet to the provider's.
  const onChain = lotus.channel(String(channel))
  assert.equal(onChain?.from, wallet)
  assert.equal(onChain?.to, priced.paymentAddress)

  // explain says it in words.
  const explained = await adminApi<{ sentences?: string[] }>(node, 'GET', `/api/v1/cids/${fixture.root}/explain`)
  assert.match(JSON.stringify(explained.body), new RegExp(`${cost} attoFIL`))
})

test('paid: a node killed mid-retrieval reuses no voucher nonce when it retries after its restart', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  const lotus = await lotusStandIn(t)
  const fixture = await createUnixfsFixture({ size: 192 * 1024, chunkSize: 16 * 1024, seed: 1621 })
  const cost = dagBytesOf(fixture.blocks) * PRICE + UNSEAL
  // Slow (each 16 KiB block takes ~0.8 s to read): the retrieval runs for seconds, paying as it goes.
  const priced = await pricedProvider(
    t,
    fixture.car,
    { pricePerByte: PRICE, unsealPrice: UNSEAL, paymentInterval: INTERVAL, paymentIntervalIncrease: INCREASE },
    lotus,
    'slow:20000'
  )
  const indexer = await startIndexer({ providers: [record(priced)] })
  t.after(() => indexer.close())
  const env = cliEnv({
    FULLNODE_API_INFO: lotus.apiInfo,
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url
  })
  const { dataDir } = await payingNodeDir(t, env, 'paid-retrievals: true\n')
  const first = await startDaemon(t, dataDir, env)
  const firstClient = await heliaClient(t, first.multiaddrs)
  catFile(firstClient, fixture.root, 30_000).catch(() => {})
  // The unseal price and the first interval paid: killed in the middle of the DAG.
  await until(
    'two vouchers accepted',
    () => priced.stats.vouchersReceived,
    (n) => n >= 2,
    { timeoutMs: 30_000 }
  )
  const before = { ...priced.stats.lastNonceByLane }
  await first.stop('SIGKILL')
  // Its read is left to its own timeout: the client will not hear from the killed node again.
  await firstClient.stop()
  // What the killed node cached is dropped, so the retry is the same retrieval again, from the root
  // (the provider answers queries for the roots it holds). Lanes and nonces live in the database.
  await rm(join(dataDir, 'blockstore'), { recursive: true, force: true })

  priced.setFault('none')
  const second = await startDaemon(t, dataDir, env)
  const secondClient = await heliaClient(t, second.multiaddrs)
  assert.deepEqual(await catFile(secondClient, fixture.root), Buffer.from(fixture.bytes))
  const retrieval = await finishedRetrieval(second, fixture.root)

  assert.equal(retrieval.status, 'success')
  assert.equal(retrieval.cost, String(cost), 'the retry paid for the whole DAG again')

  // Every voucher the restarted node sent was accepted: the provider's Lotus refuses a voucher
  // whose lane nonce is not above the last it added, so none was reused.
  assert.equal(priced.stats.vouchersRejected, 0)
  const after = priced.stats.lastNonceByLane
  const show = (o: object) => JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? String(v) : v))
  for (const [lane, nonce] of Object.entries(before))
    assert.ok((after[lane] ?? 0n) >= nonce, `lane ${lane} went back from nonce ${nonce}: ${show(after)}`)
  // One channel (per wallet and provider), a lane of its own for each run.
  assert.equal(new Set(Object.keys(after).map((l) => l.split('/')[0])).size, 1, show(after))
  assert.ok(Object.keys(after).length >= 2, show(after))
})

test('paid retrievals off: a priced provider is asked its terms and never sent a proposal', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  const lotus = await lotusStandIn(t)
  const fixture = await createUnixfsFixture({ size: 64 * 1024, chunkSize: 16 * 1024, seed: 1622 })
  const priced = await pricedProvider(t, fixture.car, { pricePerByte: PRICE }, lotus)
  const indexer = await startIndexer({ providers: [record(priced)] })
  t.after(() => indexer.close())
  const env = cliEnv({
    FULLNODE_API_INFO: lotus.apiInfo,
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url
  })
  // A wallet is there, but paid-retrievals is not on.
  const { dataDir } = await payingNodeDir(t, env, 'paid-retrievals: false\n')
  const node = await startDaemon(t, dataDir, env)
  const helia = await heliaClient(t, node.multiaddrs)
  await assert.rejects(catFile(helia, fixture.root, 5_000))
  const retrieval = await finishedRetrieval(node, fixture.root)
  assert.equal(retrieval.status, 'failed')
  assert.equal(priced.stats.queriesAnswered >= 1, true)
  assert.equal(priced.stats.proposalsReceived, 0)
  assert.deepEqual(
    (retrieval.attempts ?? []).map((a) => a.errorClass),
    ['paid_not_allowed']
  )
  assert.equal(retrieval.cost, null)
})
