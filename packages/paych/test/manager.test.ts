import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  addressOfKey,
  BuiltinMethod,
  createLotusClient,
  encodeUpdateChannelStateParams,
  formatAddress,
  generatePrivateKey,
  parseFil
} from '@autoretrieve/chain'
import type { Store } from '@autoretrieve/store'
import { type LotusStandIn, startLotus } from '@autoretrieve/testkit'
import { openWallet, type Wallet } from '@autoretrieve/wallet'
import { engines } from '../../store/test/engines.ts'
import { createPaychManager, type PaychManager, type PaychManagerInit } from '../src/index.ts'

const never = () => new AbortController().signal

interface Setup {
  lotus: LotusStandIn
  wallet: Wallet
  from: string
  /** A provider payment address whose key the test holds (to redeem vouchers as the provider would). */
  to: string
  toKey: Uint8Array
  open(): Promise<Store>
  manager(store: Store, over?: Partial<PaychManagerInit>): PaychManager
}

async function setup(
  t: { after(fn: () => Promise<void>): void; skip(msg: string): void },
  engine: keyof typeof engines,
  lotusInit: Parameters<typeof startLotus>[0] = {}
): Promise<Setup | undefined> {
  const e = await engines[engine](t)
  if ('skip' in e) {
    t.skip(e.skip)
    return undefined
  }
  const dir = await mkdtemp(join(tmpdir(), 'ar-paych-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const lotus = await startLotus({ epochMs: 10, settleDelayEpochs: 20n, ...lotusInit })
  t.after(() => lotus.close())
  const wallet = await openWallet(dir)
  const { address: from } = await wallet.generate()
  const toKey = generatePrivateKey()
  const to = formatAddress(addressOfKey(toKey))
  return {
    lotus,
    wallet,
    from,
    to,
    toKey,
    open: () => e.open(),
    manager: (store, over = {}) =>
      createPaychManager({
        repository: store.paych,
        lotus: createLotusClient({ apiInfo: lotus.url, confidence: 1 }),
        lotusUrl: lotus.url,
        wallet,
        minAvailable: parseFil('0.01 FIL'),
        fundAmount: parseFil('0.02 FIL'),
        maxSpendPerDay: parseFil('0.1 FIL'),
        ...over
      })
  }
}

const inits = (lotus: LotusStandIn) =>
  lotus.messages.filter((m) => m.method === BuiltinMethod.InitExec && m.to === 'f01')
const sends = (lotus: LotusStandIn, to: string) =>
  lotus.messages.filter((m) => m.method === BuiltinMethod.Send && m.to === to)

for (const engine of ['pglite', 'postgres'] as const) {
  describe(`payment channel manager (${engine})`, () => {
    test('creates one channel per provider address, reuses it, and adds funds when a lane needs more', async (t) => {
      const s = await setup(t, engine)
      if (s === undefined) return
      const store = await s.open()
      const m = s.manager(store)
      const a = await m.openLane({ provider: 'p1', paymentAddress: s.to, maxAmount: 1000n, signal: never() })
      assert.match(a.channel, /^f2/)
      assert.equal(a.lane, 0n)
      assert.equal(inits(s.lotus).length, 1, 'created through the init actor')
      assert.equal(s.lotus.channel(a.channel)?.balance, parseFil('0.02 FIL'), 'with paych-fund-amount')
      assert.equal(s.lotus.channel(a.channel)?.from, s.from)
      assert.equal(s.lotus.channel(a.channel)?.to, s.to)

      const b = await m.openLane({ provider: 'p1', paymentAddress: s.to, maxAmount: 1000n, signal: never() })
      assert.equal(b.channel, a.channel, 'reused')
      assert.equal(b.lane, 1n)
      assert.equal(inits(s.lotus).length, 1)
      assert.equal(sends(s.lotus, a.channel).length, 0)

      // 0.02 FIL in it, 0.015 wanted: below max(0.015, paych-min-available) left after paying 0.006.
      await b.voucher(parseFil('0.006 FIL'))
      const c = await m.openLane({
        provider: 'p1',
        paymentAddress: s.to,
        maxAmount: parseFil('0.015 FIL'),
        signal: never()
      })
      assert.equal(c.channel, a.channel)
      assert.deepEqual(
        sends(s.lotus, a.channel).map((x) => x.value),
        [parseFil('0.02 FIL')],
        'topped up by paych-fund-amount (more than the 0.001 FIL short)'
      )
      assert.equal(s.lotus.channel(a.channel)?.balance, parseFil('0.04 FIL'))
      const big = await m.openLane({
        provider: 'p1',
        paymentAddress: s.to,
        maxAmount: parseFil('0.1 FIL'),
        signal: never()
      })
      assert.equal(big.channel, a.channel)
      assert.equal(
        sends(s.lotus, a.channel).at(-1)?.value,
        parseFil('0.1 FIL') - parseFil('0.034 FIL'),
        'what the lane needs'
      )

      const summary = await m.summary()
      assert.equal(summary.spentToday, parseFil('0.006 FIL').toString())
      assert.equal(summary.maxSpendPerDay, parseFil('0.1 FIL').toString())
      assert.deepEqual(
        summary.channels.map((x) => [x.address, x.paid, x.lanes, x.balance]),
        [[a.channel, parseFil('0.006 FIL').toString(), 4, parseFil('0.106 FIL').toString()]]
      )

      // Another provider address: its own channel.
      const other = formatAddress(addressOfKey(generatePrivateKey()))
      const d = await m.openLane({ provider: 'p2', paymentAddress: other, maxAmount: 1n, signal: never() })
      assert.notEqual(d.channel, a.channel)
      assert.equal(inits(s.lotus).length, 2)
    })

    test('concurrent opens for one provider share one create; a caller that gives up does not lose the channel', async (t) => {
      const s = await setup(t, engine)
      if (s === undefined) return
      const store = await s.open()
      const m = s.manager(store)
      // The first caller gives up once its create message is in Lotus' pool: the message still lands
      // and is recorded, and the others use that channel.
      const quitter = new AbortController()
      const gaveUp = assert.rejects(
        m.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 10n, signal: quitter.signal }),
        /retrieval over/
      )
      const others = Array.from({ length: 6 }, () =>
        m.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 10n, signal: never() })
      )
      for (let i = 0; i < 500 && s.lotus.callsOf('Filecoin.MpoolPush') === 0; i++) await sleep(10)
      quitter.abort(new Error('retrieval over'))
      await gaveUp
      const lanes = await Promise.all(others)
      assert.equal(new Set(lanes.map((l) => l.channel)).size, 1)
      assert.deepEqual(
        lanes.map((l) => l.lane).sort((x, y) => Number(x - y)),
        [0n, 1n, 2n, 3n, 4n, 5n],
        'every lane distinct'
      )
      assert.equal(inits(s.lotus).length, 1, 'one create message')
      assert.equal(sends(s.lotus, lanes[0].channel).length, 0, 'no add-funds')
    })

    test('nonces: stored before signing, never reused after a restart; the provider and the chain accept each', async (t) => {
      const s = await setup(t, engine)
      if (s === undefined) return
      let store = await s.open()
      const m1 = s.manager(store)
      const lane = await m1.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 1000n, signal: never() })
      const v1 = await lane.voucher(100n)
      const v2 = await lane.voucher(250n)
      assert.deepEqual([v1.nonce, v2.nonce, v2.lane, v2.amount], [1n, 2n, 0n, 250n])
      assert.equal(lane.paid, 250n)
      await assert.rejects(lane.voucher(200n), { code: 'ERR_PAYCH', message: /amounts only grow/ })
      const client = createLotusClient({ apiInfo: s.lotus.url, confidence: 1 })
      await client.paychVoucherCheckValid(lane.channel, v2)
      // The provider redeems it on chain.
      await client.pushMessage(s.toKey, {
        to: lane.channel,
        value: 0n,
        method: BuiltinMethod.PaychUpdateChannelState,
        params: encodeUpdateChannelStateParams({ sv: v2, secret: new Uint8Array() })
      })
      assert.equal(s.lotus.channel(lane.channel)?.toSend, 250n)

      // Restart: a new store handle and manager. The lane counter and nonces come from the database.
      await store.close()
      store = await s.open()
      const m2 = s.manager(store)
      const next = await m2.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 1000n, signal: never() })
      assert.equal(next.channel, lane.channel)
      assert.equal(next.lane, 1n, 'a new lane, never lane 0 again')
      const v3 = await next.voucher(50n)
      await client.paychVoucherCheckValid(next.channel, v3)
      const again = await store.paych.recordVoucher({ channel: lane.channel, lane: 0, amount: 300n })
      assert.equal(again.ok && again.nonce, 3, 'lane 0 carries on from its stored nonce')
    })

    test('max-spend-per-day: charged per UTC day across lanes, refused past it with nothing signed', async (t) => {
      const s = await setup(t, engine)
      if (s === undefined) return
      const store = await s.open()
      let clock = new Date('2026-12-07T23:00:00Z')
      const m = s.manager(store, { maxSpendPerDay: 100n, now: () => clock })
      assert.equal(await m.remainingToday(), 100n)
      const a = await m.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 100n, signal: never() })
      const b = await m.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 100n, signal: never() })
      await a.voucher(60n)
      await b.voucher(30n)
      assert.equal(await m.remainingToday(), 10n)
      await assert.rejects(a.voucher(80n), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ERR_SPEND_LIMIT')
        assert.match(err.message, /max-spend-per-day/)
        return true
      })
      assert.equal(a.paid, 60n, 'the refused voucher changed nothing')
      const ok = await a.voucher(70n)
      assert.equal(ok.nonce, 2n, 'no nonce spent on the refused one')
      clock = new Date('2026-12-08T00:00:05Z')
      assert.equal(await m.remainingToday(), 100n, 'a new UTC day')
      await a.voucher(150n)
      assert.equal((await m.summary()).spentToday, '80')
      const uncapped = s.manager(store, { maxSpendPerDay: undefined })
      assert.equal(await uncapped.remainingToday(), undefined)
    })

    test('settle and collect: a clear error before the settle delay, funds paid out after it', async (t) => {
      const s = await setup(t, engine, { epochMs: 0 })
      if (s === undefined) return
      // The chain moves only when told: each message waits for the next epochs.
      const ticker = setInterval(() => s.lotus.advance(1), 10)
      t.after(async () => clearInterval(ticker))
      const store = await s.open()
      const m = s.manager(store)
      const lane = await m.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 10n, signal: never() })
      await assert.rejects(m.collect(lane.channel), {
        code: 'ERR_PAYCH',
        message: /not settling; run `autoretrieve paych settle/
      })
      const { settlingAt } = await m.settle(lane.channel)
      assert.ok(settlingAt > Number(s.lotus.height) - 5)
      assert.equal((await m.list())[0].settlingAt, settlingAt)
      // A message the chain refuses (Lotus finds it out estimating gas): what, where and why.
      await assert.rejects(m.settle(lane.channel), {
        code: 'ERR_PAYCH',
        message: /cannot settle payment channel f2\w+: Lotus at http:\/\/127\.0\.0\.1:\d+: .*channel already settling/
      })
      clearInterval(ticker)
      await assert.rejects(m.collect(lane.channel), {
        code: 'ERR_PAYCH',
        message: /can be collected from epoch \d+ \(now \d+/
      })
      const before = s.lotus.balanceOf(s.from)
      s.lotus.advance(25)
      const ticker2 = setInterval(() => s.lotus.advance(1), 10)
      t.after(async () => clearInterval(ticker2))
      await m.collect(lane.channel)
      assert.equal(s.lotus.channel(lane.channel), undefined, 'collected')
      assert.ok(s.lotus.balanceOf(s.from) > before, 'the unpaid balance went back to the wallet')
      const [view] = await m.list()
      assert.equal(view.collected, true)
      // A settling channel is not reused: the next lane gets a new one.
      const fresh = await m.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 10n, signal: never() })
      assert.notEqual(fresh.channel, lane.channel)
    })

    test('a channel gone from the chain is not reused: a new one is opened', async (t) => {
      const s = await setup(t, engine)
      if (s === undefined) return
      const store = await s.open()
      const first = await s
        .manager(store)
        .openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 1n, signal: never() })
      // Another chain (a devnet reset, say) that has never seen it.
      const other = await startLotus({ epochMs: 10 })
      t.after(() => other.close())
      const otherClient = createLotusClient({ apiInfo: other.url, confidence: 1 })
      // The wallet has sent before there, so its next actor address differs from the first one's.
      const key = (await s.wallet.key(s.from)).privateKey
      await otherClient.pushMessage(key, { to: s.to, value: 1n, method: BuiltinMethod.Send, params: new Uint8Array() })
      const m = s.manager(store, { lotus: otherClient, lotusUrl: other.url })
      const next = await m.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 1n, signal: never() })
      assert.notEqual(next.channel, first.channel)
      assert.ok(other.channel(next.channel))
      assert.equal((await store.paych.getChannel(first.channel))?.collectedAt instanceof Date, true)
    })

    test('errors say which and where: no wallet key, too little FIL, Lotus down', async (t) => {
      const s = await setup(t, engine)
      if (s === undefined) return
      const store = await s.open()
      const dir = await mkdtemp(join(tmpdir(), 'ar-paych-empty-'))
      t.after(() => rm(dir, { recursive: true, force: true }))
      const empty = s.manager(store, { wallet: await openWallet(dir) })
      await assert.rejects(empty.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 1n, signal: never() }), {
        code: 'ERR_PAYCH',
        message: /no default wallet key in .*wallet: run `autoretrieve wallet new`/
      })
      const poor = await startLotus({ epochMs: 10, balances: { [s.from]: parseFil('0.001 FIL') } })
      t.after(() => poor.close())
      const broke = s.manager(store, {
        lotus: createLotusClient({ apiInfo: poor.url, confidence: 1 }),
        lotusUrl: poor.url
      })
      await assert.rejects(broke.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 1n, signal: never() }), {
        code: 'ERR_PAYCH',
        message: new RegExp(`wallet ${s.from} holds 0.001 FIL, it needs 0.02 FIL plus gas`)
      })
      const down = 'http://127.0.0.1:1/rpc/v1'
      const offline = s.manager(store, { lotus: createLotusClient({ apiInfo: down, timeoutMs: 2000 }), lotusUrl: down })
      await assert.rejects(offline.openLane({ provider: 'p', paymentAddress: s.to, maxAmount: 1n, signal: never() }), {
        code: 'ERR_PAYCH',
        message: /Lotus at http:\/\/127\.0\.0\.1:1\/rpc\/v1/
      })
      await assert.rejects(
        s.manager(store).openLane({ provider: 'p', paymentAddress: 'nope', maxAmount: 1n, signal: never() }),
        {
          code: 'ERR_PAYCH',
          message: /payment address "nope" is not an address/
        }
      )
      assert.equal(inits(s.lotus).length, 0, 'nothing was sent')
    })
  })
}
