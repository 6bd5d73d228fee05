import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  createUnixfsFixture,
  parseExposition,
  startIndexer,
  startLotus,
  startProvider,
  sampleValue as value
} from '@autoretrieve/testkit'
import {
  adminApi,
  catFile,
  cliEnv,
  heliaClient,
  runCli,
  scratchDatabase,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

// Issue 16, "visible cost": a retrieval paid through a real node (its wallet, its payment channel on
// the Lotus stand-in, vouchers checked by the provider stand-in through that Lotus) shows what it
// cost in its record, explain, /api/v1/stats and /metrics, and all of them agree.

const PRICE_PER_BYTE = 2n
const UNSEAL_PRICE = 1000n

interface Attempt {
  provider: string
  outcome: string
  errorClass: string | null
  bytes: number
  cost: string | null
  paymentChannel: string | null
}
interface Retrieval {
  id: string
  status: string
  cost: string | null
  attempts: Attempt[]
}

test('a paid retrieval shows its cost in the record, explain, the stats payments block and the metrics, which agree', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  const lotus = await startLotus({ epochMs: 20 })
  t.after(() => lotus.close())
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 100_000, seed: 1605 })
  const provider = await startProvider({
    cars: [fixture.car],
    protocols: ['graphsync'],
    ask: { pricePerByte: PRICE_PER_BYTE, unsealPrice: UNSEAL_PRICE, paymentInterval: 200_000n },
    lotus: lotus.apiInfo
  })
  t.after(() => provider.close())
  const indexer = await startIndexer({
    providers: [{ peerId: provider.peerId, addrs: provider.multiaddrs, protocols: ['graphsync'] }]
  })
  t.after(() => indexer.close())

  const dataDir = await tempDataDir(t)
  const env = cliEnv({
    FULLNODE_API_INFO: lotus.apiInfo,
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url
  })
  const made = await runCli(['--data-dir', dataDir, 'wallet', 'new'], env)
  assert.equal(made.code, 0, made.stderr)
  await writeFile(join(dataDir, 'config.yaml'), 'paid-retrievals: true\n')
  const node = await startDaemon(t, dataDir, env)

  assert.deepEqual(
    await catFile(await heliaClient(t, node.multiaddrs), fixture.root, 60_000),
    Buffer.from(fixture.bytes)
  )

  // The record: the retrieval's cost is its one attempt's, which is the bytes it verified at the
  // ask's price plus the unseal price, on a channel of this node's.
  const list = await until(
    'the finished retrieval',
    async () =>
      (await adminApi<{ items: Retrieval[] }>(node, 'GET', `/api/v1/retrievals?cid=${fixture.root}`)).body.items,
    (items) => items.length > 0 && items[0].status !== 'running'
  )
  const detail = (await adminApi<Retrieval>(node, 'GET', `/api/v1/retrievals/${list[0].id}`)).body
  assert.equal(detail.status, 'success')
  const paid = detail.attempts.find((a) => a.outcome === 'success')
  assert.ok(paid, JSON.stringify(detail.attempts))
  const cost = BigInt(paid.bytes) * PRICE_PER_BYTE + UNSEAL_PRICE
  assert.equal(paid.cost, cost.toString())
  assert.match(paid.paymentChannel ?? '', /^f2/)
  assert.equal(detail.cost, cost.toString())
  assert.equal(list[0].cost, cost.toString(), 'the list carries it too')

  // Explain says it in words.
  const why = (await adminApi<{ summary: string[] }>(node, 'GET', `/api/v1/cids/${fixture.root}/explain`)).body
  assert.ok(
    why.summary.some((s) => s.includes(`paying `) && s.includes(`(${cost} attoFIL)`)),
    why.summary.join('\n')
  )
  assert.ok(
    why.summary.some((s) => s.includes(`paid `) && s.includes(`on payment channel ${paid.paymentChannel}`)),
    why.summary.join('\n')
  )

  // The stats: spend today is that cost, on the one channel, one lane.
  const stats = (
    await adminApi<{
      payments: { spentToday: string; channels: Array<{ address: string; paid: string; lanes: number }> }
    }>(node, 'GET', '/api/v1/stats')
  ).body.payments
  assert.equal(stats.spentToday, cost.toString())
  assert.deepEqual(
    stats.channels.map((c) => [c.address, c.paid, c.lanes]),
    [[paid.paymentChannel, cost.toString(), 1]]
  )

  // The metrics: Go's cost distribution observed it once; this node's spend counter added it.
  const m = parseExposition(await (await fetch(`${node.adminUrl}/metrics`)).text())
  assert.equal(value(m, 'autoretrieve_retrieval_deal_cost_fil_count'), 1)
  assert.equal(value(m, 'autoretrieve_retrieval_deal_cost_fil_sum'), Number(cost))
  assert.equal(value(m, 'autoretrieve_retrieval_paid_attofil_total'), Number(cost))
  assert.equal(value(m, 'autoretrieve_retrieval_paid_attempts_total'), 1)
  assert.equal(value(m, 'autoretrieve_retrieval_error_paych_total'), 0)
})

test('a wallet Lotus says cannot pay fails the attempt `paych`, counted in retrieval_error_paych_total, and costs nothing', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  // Every address starts empty: the node's channel cannot be funded.
  const lotus = await startLotus({ epochMs: 20, initialBalance: 0n })
  t.after(() => lotus.close())
  const fixture = await createUnixfsFixture({ size: 200_000, chunkSize: 100_000, seed: 1606 })
  const provider = await startProvider({
    cars: [fixture.car],
    protocols: ['graphsync'],
    // The first payment is due after 50 kB: before the DAG is whole.
    ask: { pricePerByte: PRICE_PER_BYTE, paymentInterval: 50_000n },
    lotus: lotus.apiInfo
  })
  t.after(() => provider.close())
  const indexer = await startIndexer({
    providers: [{ peerId: provider.peerId, addrs: provider.multiaddrs, protocols: ['graphsync'] }]
  })
  t.after(() => indexer.close())
  const dataDir = await tempDataDir(t)
  const env = cliEnv({
    FULLNODE_API_INFO: lotus.apiInfo,
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url
  })
  assert.equal((await runCli(['--data-dir', dataDir, 'wallet', 'new'], env)).code, 0)
  await writeFile(join(dataDir, 'config.yaml'), 'paid-retrievals: true\n')
  const node = await startDaemon(t, dataDir, env)

  // The root's retrieval cannot pay. (Helia may still get the file: each leaf it then asks for is
  // a one-block deal, and a provider sends the block that crosses its payment interval before it
  // asks, as go-fil-markets did; whether those leaves come through is not what this test is about.)
  await catFile(await heliaClient(t, node.multiaddrs), fixture.root, 15_000).catch(() => {})
  const list = await until(
    'the failed retrieval',
    async () =>
      (await adminApi<{ items: Retrieval[] }>(node, 'GET', `/api/v1/retrievals?cid=${fixture.root}`)).body.items,
    (items) => items.length > 0 && items[0].status !== 'running',
    { timeoutMs: 30_000 }
  )
  const detail = (await adminApi<Retrieval>(node, 'GET', `/api/v1/retrievals/${list[0].id}`)).body
  assert.deepEqual(
    detail.attempts.map((a) => [a.outcome, a.errorClass, a.cost]),
    [['failed', 'paych', null]]
  )
  assert.equal(detail.cost, null)
  const m = parseExposition(await (await fetch(`${node.adminUrl}/metrics`)).text())
  assert.ok((value(m, 'autoretrieve_retrieval_error_paych_total') ?? 0) >= 1)
  assert.equal(value(m, 'autoretrieve_retrieval_paid_attofil_total'), 0)
  const stats = (await adminApi<{ payments: { spentToday: string } }>(node, 'GET', '/api/v1/stats')).body.payments
  assert.equal(stats.spentToday, '0')
})
