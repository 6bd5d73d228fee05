import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { addressOfKey, createLotusClient, formatAddress, generatePrivateKey, parseFil } from '@autoretrieve/chain'
import { createPaychManager } from '@autoretrieve/paych'
import { createStore } from '@autoretrieve/store'
import { startLotus } from '@autoretrieve/testkit'
import { openWallet } from '@autoretrieve/wallet'
import { adminApi, cliEnv, runCli, scratchDatabase, startDaemon, tempDataDir, until } from './helpers.ts'

interface Payments {
  spentToday: string
  maxSpendPerDay: string | null
  channels: Array<{ address: string; from: string; to: string; balance: string; paid: string; lanes: number }>
}

test("/api/v1/stats shows a paying node's spend today, its daily cap and its channels; a node that does not pay has no payments block", async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  const lotus = await startLotus({ epochMs: 20 })
  t.after(() => lotus.close())
  const dataDir = await tempDataDir(t)
  const env = cliEnv({ FULLNODE_API_INFO: lotus.apiInfo, AUTORETRIEVE_DATABASE_URL: databaseUrl })
  const made = await runCli(['--data-dir', dataDir, 'wallet', 'new'], env)
  assert.equal(made.code, 0, made.stderr)
  const { address: from } = JSON.parse(made.stdout) as { address: string }
  await writeFile(join(dataDir, 'config.yaml'), 'paid-retrievals: true\nmax-spend-per-day: 0.5 FIL\n')
  const node = await startDaemon(t, dataDir, env)

  const payments = async () => (await adminApi<{ payments?: Payments }>(node, 'GET', '/api/v1/stats')).body.payments
  assert.deepEqual(await payments(), {
    spentToday: '0',
    maxSpendPerDay: parseFil('0.5 FIL').toString(),
    channels: []
  })

  // A payment made from this wallet in the node's database (as its retriever pays: a lane, a voucher).
  const store = await createStore({ databaseUrl })
  t.after(() => store.close())
  const manager = createPaychManager({
    repository: store.paych,
    lotus: createLotusClient({ apiInfo: lotus.apiInfo, confidence: 1 }),
    lotusUrl: lotus.url,
    wallet: await openWallet(dataDir),
    minAvailable: parseFil('0.01 FIL'),
    fundAmount: parseFil('0.02 FIL')
  })
  const to = formatAddress(addressOfKey(generatePrivateKey()))
  const lane = await manager.openLane({
    provider: 'p',
    paymentAddress: to,
    maxAmount: 100n,
    signal: AbortSignal.timeout(20_000)
  })
  await lane.voucher(42n)

  const seen = await until('the payment in the stats', payments, (p) => p?.spentToday === '42')
  assert.equal(seen?.channels.length, 1)
  const [channel] = seen?.channels ?? []
  assert.deepEqual(
    [channel.address, channel.from, channel.to, channel.paid, channel.lanes],
    [lane.channel, from, to, '42', 1]
  )
  assert.equal(channel.balance, parseFil('0.02 FIL').toString())

  // Paid retrievals off: no block at all (not an empty one).
  const free = await startDaemon(t, await tempDataDir(t), cliEnv({ AUTORETRIEVE_DATABASE_URL: databaseUrl }))
  const body = (await adminApi(free, 'GET', '/api/v1/stats')).body
  assert.equal('payments' in body, false)
})
