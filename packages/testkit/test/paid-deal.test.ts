import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DealStatus } from '@autoretrieve/filecoin'
import { checkProposedTerms, PaidDeal } from '../src/paid-deal.ts'

const terms = { pricePerByte: 2n, unsealPrice: 0n, paymentInterval: 100n, paymentIntervalIncrease: 50n }
const deal = (over: Partial<typeof terms> = {}) =>
  new PaidDeal({ dealId: 1n, transferId: 2n, terms: { ...terms, ...over } })

test('a proposal must pay at least the ask and wait at most its intervals (go-fil-markets words)', () => {
  assert.equal(checkProposedTerms(terms, terms), undefined)
  assert.equal(checkProposedTerms(terms, { ...terms, pricePerByte: 3n, paymentInterval: 50n }), undefined)
  assert.equal(checkProposedTerms(terms, { ...terms, pricePerByte: 1n }), 'Price per byte too low')
  assert.equal(checkProposedTerms(terms, { ...terms, paymentInterval: 101n }), 'Payment interval too large')
  assert.equal(
    checkProposedTerms(terms, { ...terms, paymentIntervalIncrease: 51n }),
    'Payment interval increase too large'
  )
  assert.equal(checkProposedTerms({ ...terms, unsealPrice: 5n }, terms), 'Unseal price too small')
  assert.equal(
    checkProposedTerms({ ...terms, paymentInterval: 0n }, { ...terms, paymentInterval: 0n }),
    'Payment interval must be positive'
  )
})

test('the limit grows by the interval, then each next one longer by the increase, once what was sent is paid', () => {
  const d = deal()
  // 30-byte blocks: 3 fit under 100, the fourth would pass it.
  assert.equal(d.demand(90n, 30n, false)?.status, DealStatus.FundsNeeded)
  assert.equal(d.owed, 180n)
  d.credit(179n)
  assert.equal(d.limit, 100n, 'short of everything owed: the limit stays')
  d.credit(1n)
  assert.equal(d.limit, 250n, '100, then 150 more')
  assert.equal(d.demand(90n, 30n, false), undefined, 'paid: it goes on')
  assert.equal(d.demand(240n, 30n, false)?.owed, 300n)
  d.credit(300n)
  assert.equal(d.limit, 450n, '250, then 200 more')
  assert.deepEqual(d.demand(300n, 0n, true), { status: DealStatus.FundsNeededLastPayment, owed: 120n })
  d.credit(120n)
  assert.equal(d.demand(300n, 0n, true), undefined, 'all paid: the transfer may end')
})

test('the unseal price is due before the first byte; a block larger than the interval goes out when nothing is owed', () => {
  const d = deal({ unsealPrice: 7n, paymentInterval: 10n })
  assert.deepEqual(d.demand(0n, 64n, false), { status: DealStatus.FundsNeededUnseal, owed: 7n })
  d.credit(7n)
  assert.equal(d.demand(0n, 64n, false), undefined, 'a block is never split')
  assert.deepEqual(d.demand(64n, 64n, false), { status: DealStatus.FundsNeeded, owed: 128n })
  d.credit(128n)
  assert.ok(d.limit > 64n, `the limit passed what was paid for (${d.limit})`)
})
