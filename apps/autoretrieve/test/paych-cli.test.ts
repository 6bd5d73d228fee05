import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addressOfKey, createLotusClient, formatAddress, generatePrivateKey, parseFil } from '@autoretrieve/chain'
import { createPaychManager } from '@autoretrieve/paych'
import { createStore } from '@autoretrieve/store'
import { startLotus } from '@autoretrieve/testkit'
import { openWallet } from '@autoretrieve/wallet'
import { cliEnv, runCli, scratchDatabase, tempDataDir } from './helpers.ts'

test('wallet balance and paych list / settle / collect through the CLI against the Lotus stand-in', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  const lotus = await startLotus({ epochMs: 20, settleDelayEpochs: 100_000n })
  t.after(() => lotus.close())
  const dataDir = await tempDataDir(t)
  const env = cliEnv({ FULLNODE_API_INFO: lotus.apiInfo, AUTORETRIEVE_DATABASE_URL: databaseUrl })
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...args], env)

  const made = await cli('wallet', 'new')
  assert.equal(made.code, 0, made.stderr)
  const { address: from } = JSON.parse(made.stdout) as { address: string }
  const balance = await cli('wallet', 'balance')
  assert.equal(balance.code, 0, balance.stderr)
  assert.deepEqual(JSON.parse(balance.stdout), {
    address: from,
    attoFil: parseFil('100 FIL').toString(),
    fil: '100 FIL'
  })

  // A retrieval's payment, as the node makes it: a channel and a voucher, in the same database.
  const to = formatAddress(addressOfKey(generatePrivateKey()))
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
  const lane = await manager.openLane({
    provider: 'p',
    paymentAddress: to,
    maxAmount: 100n,
    signal: AbortSignal.timeout(20_000)
  })
  await lane.voucher(42n)

  const listed = await cli('paych', 'list')
  assert.equal(listed.code, 0, listed.stderr)
  const [ch] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>
  assert.deepEqual(
    [ch.address, ch.from, ch.to, ch.balance, ch.paid, ch.lanes, ch.settlingAt, ch.collected],
    [lane.channel, from, to, parseFil('0.02 FIL').toString(), '42', 1, null, false]
  )

  const early = await cli('paych', 'collect', lane.channel)
  assert.equal(early.code, 1)
  assert.match(early.stderr, /not settling; run `autoretrieve paych settle/)
  const settled = await cli('paych', 'settle', lane.channel)
  assert.equal(settled.code, 0, settled.stderr)
  const { settlingAt } = JSON.parse(settled.stdout) as { settlingAt: number }
  assert.ok(settlingAt > 0)
  const tooSoon = await cli('paych', 'collect', lane.channel)
  assert.equal(tooSoon.code, 1)
  assert.match(tooSoon.stderr, new RegExp(`can be collected from epoch ${settlingAt} \\(now \\d+`))
  lotus.advance(settlingAt - Number(lotus.height) + 1)
  const collected = await cli('paych', 'collect', lane.channel)
  assert.equal(collected.code, 0, collected.stderr)
  assert.equal(lotus.channel(lane.channel), undefined)
  const after = JSON.parse((await cli('paych', 'list')).stdout) as Array<Record<string, unknown>>
  assert.equal(after[0].collected, true)

  const bad = await cli('paych', 'settle', 'nope')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /paych settle: "nope" is not a Filecoin address/)
})

test('wallet balance with Lotus unreachable says where, exit 1', async (t) => {
  const dataDir = await tempDataDir(t)
  const env = cliEnv()
  assert.equal((await runCli(['--data-dir', dataDir, 'wallet', 'new'], env)).code, 0)
  const res = await runCli(['--data-dir', dataDir, 'wallet', 'balance'], env)
  assert.equal(res.code, 1)
  assert.match(res.stderr, /cannot read the balance of f1[a-z2-7]+ from Lotus at http:\/\/127\.0\.0\.1:1/)
})
