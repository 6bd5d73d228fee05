import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { engines } from './engines.ts'

const FROM = 'f1wallet'
const TO = 'f1provider'

for (const [name, engine] of Object.entries(engines)) {
  describe(`paych repository (${name})`, () => {
    test('one open channel per (from, to); lanes allocated once each, even when asked at once', async (t) => {
      const e = await engine(t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      assert.equal(await store.paych.openChannel(FROM, TO), null)
      await store.paych.addChannel({ address: 'f2chan', idAddress: 'f01001', from: FROM, to: TO, funded: 20n })
      await store.paych.addFunds('f2chan', 5n)
      const lanes = await Promise.all(Array.from({ length: 8 }, () => store.paych.allocateLane('f2chan', 'peer')))
      assert.deepEqual(
        lanes.map((l) => l.lane).sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7]
      )
      const ch = await store.paych.openChannel(FROM, TO)
      assert.equal(ch?.address, 'f2chan')
      assert.equal(ch?.funded, 25n)
      assert.equal(ch?.lanes, 8)
      await store.paych.markSettling('f2chan', 1234)
      assert.equal(await store.paych.openChannel(FROM, TO), null, 'a settling channel is not reused')
      assert.equal((await store.paych.getChannel('f2chan'))?.settlingAt, 1234)
      // The same address made again (a new chain): open again, lanes numbered on from where they were.
      await store.paych.markCollected('f2chan')
      await store.paych.addChannel({ address: 'f2chan', idAddress: 'f01009', from: FROM, to: TO, funded: 7n })
      const again = await store.paych.openChannel(FROM, TO)
      assert.deepEqual(
        [again?.idAddress, again?.funded, again?.settlingAt, again?.collectedAt],
        ['f01009', 7n, null, null]
      )
      assert.equal((await store.paych.allocateLane('f2chan', 'peer')).lane, 8)
    })

    test('vouchers: nonces increase and survive a reopen, amounts are cumulative, the UTC day is capped', async (t) => {
      const e = await engine(t)
      if ('skip' in e) return t.skip(e.skip)
      let store = await e.open()
      await store.paych.addChannel({ address: 'f2c', idAddress: 'f01002', from: FROM, to: TO, funded: 1000n })
      const { lane } = await store.paych.allocateLane('f2c', 'peer')
      const day = new Date('2026-12-07T10:00:00Z')
      const v1 = await store.paych.recordVoucher({ channel: 'f2c', lane, amount: 30n, maxSpendPerDay: 100n, now: day })
      assert.deepEqual(v1, { ok: true, nonce: 1, delta: 30n, spentToday: 30n })
      await store.close()
      store = await e.open()
      const v2 = await store.paych.recordVoucher({ channel: 'f2c', lane, amount: 90n, maxSpendPerDay: 100n, now: day })
      assert.deepEqual(v2, { ok: true, nonce: 2, delta: 60n, spentToday: 90n })
      const over = await store.paych.recordVoucher({
        channel: 'f2c',
        lane,
        amount: 111n,
        maxSpendPerDay: 100n,
        now: day
      })
      assert.deepEqual(over, { ok: false, reason: 'spend_limit', spentToday: 90n, delta: 21n })
      const down = await store.paych.recordVoucher({ channel: 'f2c', lane, amount: 50n, now: day })
      assert.deepEqual(down, { ok: false, reason: 'amount_decreased', last: 90n })
      const next = new Date('2026-12-08T00:00:01Z')
      assert.equal(await store.paych.spentToday(next), 0n)
      const v3 = await store.paych.recordVoucher({
        channel: 'f2c',
        lane,
        amount: 111n,
        maxSpendPerDay: 100n,
        now: next
      })
      assert.deepEqual(v3, { ok: true, nonce: 3, delta: 21n, spentToday: 21n })
      assert.equal((await store.paych.getChannel('f2c'))?.paid, 111n)
      assert.deepEqual(await store.paych.recordVoucher({ channel: 'f2c', lane: 99, amount: 1n }), {
        ok: false,
        reason: 'no_lane'
      })
    })
  })
}
