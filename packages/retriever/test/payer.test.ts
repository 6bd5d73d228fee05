import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { formatAddress, verifyVoucher } from '@autoretrieve/chain'
import {
  type DealPayment,
  dealPaymentFromNode,
  decodeTransferMessage,
  encodeTransferMessage,
  MessageType,
  type TransferMessage
} from '@autoretrieve/filecoin'
import { DealPayer } from '../src/adapters/payer.ts'
import type { AttemptError } from '../src/errors.ts'
import { memoryPayments } from './payments.ts'

// The payer's rule, against really signed vouchers read back from the wire bytes the provider
// would get: pay a demand only once verified bytes × price + unseal cover it, never past the terms.

const PROVIDER = '12D3KooWProviderUnderTest'
const PAYMENT_ADDRESS = 'f01000'

function payer(
  init: {
    price?: bigint
    unseal?: bigint
    maxTotal?: bigint
    waitMs?: number
    maxSpendPerDay?: bigint
    failOpen?: string
  } = {}
) {
  const payments = memoryPayments({ maxSpendPerDay: init.maxSpendPerDay, failOpen: init.failOpen })
  const sent: DealPayment[] = []
  const paid: Array<[bigint, string]> = []
  const failures: AttemptError[] = []
  const holds: string[] = []
  const controller = new AbortController()
  const p = new DealPayer({
    provider: PROVIDER,
    paymentAddress: PAYMENT_ADDRESS,
    dealId: 11n,
    transferId: 22n,
    pricePerByte: init.price ?? 2n,
    unsealPrice: init.unseal ?? 0n,
    maxTotal: init.maxTotal ?? 1_000_000n,
    payment: { payments, onPaid: (cost, channel) => paid.push([cost, channel]) },
    send: async (message: TransferMessage) => {
      // What the provider reads off its /fil/datatransfer/1.2.0 stream.
      const read = decodeTransferMessage(encodeTransferMessage(message))
      assert.ok(read.isRequest && read.request.type === MessageType.Voucher && read.request.transferId === 22n)
      sent.push(dealPaymentFromNode(read.request.voucher))
    },
    signal: controller.signal,
    waitMs: init.waitMs ?? 200,
    fail: (err) => failures.push(err),
    hold: () => {
      holds.push('hold')
      return () => holds.push('release')
    }
  })
  return { p, payments, sent, paid, failures, holds }
}

/** Lets pending payments run (signing is async): for the checks that nothing was paid. */
const settled = () => sleep(20)

async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(10)
  assert.ok(condition(), what)
}

test('a demand is paid only once verified bytes cover it, with the cumulative amount, nonces counting up', async () => {
  const { p, payments, sent, paid, failures, holds } = payer({ price: 2n })
  p.open()
  // The attempt's timeouts stop while the lane is opened (a channel may be created on chain).
  assert.deepEqual(holds, ['hold'])
  p.demanded(200n) // 100 bytes' worth, none verified yet
  await settled()
  assert.equal(sent.length, 0, 'nothing paid ahead of the bytes')
  p.verified(60)
  await settled()
  assert.equal(sent.length, 0, '60 bytes are worth 120, not 200')
  p.verified(40)
  await until(() => sent.length === 1, 'paid once 100 bytes were verified')
  p.demanded(100n) // the next interval: 50 more bytes
  p.verified(50)
  await until(() => sent.length === 2, 'the next interval paid')
  assert.deepEqual(
    sent.map((s) => [s.id, s.paymentVoucher?.lane, s.paymentVoucher?.nonce, s.paymentVoucher?.amount]),
    [
      [11n, 0n, 1n, 200n],
      [11n, 0n, 2n, 300n]
    ]
  )
  for (const s of sent) {
    assert.ok(s.paymentVoucher !== null && verifyVoucher(s.paymentVoucher, payments.from), 'signed by the wallet')
    assert.equal(formatAddress(s.paymentChannel), formatAddress(payments.channel))
  }
  assert.deepEqual(paid.at(-1), [300n, formatAddress(payments.channel)])
  assert.deepEqual(payments.lanesOpened, [
    { provider: PROVIDER, paymentAddress: PAYMENT_ADDRESS, maxAmount: 1_000_000n }
  ])
  assert.deepEqual(failures, [])
})

test('the unseal price is paid first, before any byte', async () => {
  const { p, sent, failures } = payer({ price: 1n, unseal: 500n })
  p.demanded(500n) // FundsNeededUnseal
  await until(() => sent.length === 1, 'the unseal price paid')
  assert.deepEqual(
    sent.map((s) => s.paymentVoucher?.amount),
    [500n]
  )
  p.demanded(10n) // a first interval before its bytes came
  await settled()
  assert.equal(sent.length, 1)
  p.verified(10)
  await until(() => sent.length === 2, 'the interval paid once its bytes came')
  assert.deepEqual(
    sent.map((s) => s.paymentVoucher?.amount),
    [500n, 510n]
  )
  assert.deepEqual(failures, [])
})

test('a demand the bytes never justify fails the attempt overcharged after the wait; nothing is paid', async () => {
  const { p, sent, failures } = payer({ price: 1n, waitMs: 50 })
  p.demanded(1000n)
  p.verified(10)
  for (let i = 0; i < 50 && failures.length === 0; i++) await sleep(10)
  assert.equal(failures[0]?.errorClass, 'overcharged')
  assert.match(failures[0].message, /asks 1000 attoFIL in all for 10 verified bytes, worth 10/)
  assert.equal(sent.length, 0)
})

test('a demand past the terms (or the cap) fails at once, overcharged', async () => {
  const { p, sent, failures } = payer({ price: 1n, maxTotal: 100n })
  p.verified(1000)
  p.demanded(101n)
  assert.equal(failures[0]?.errorClass, 'overcharged', 'at once')
  assert.equal(sent.length, 0)
})

test('past the day’s spend the payment is refused, price_too_high; no lane, paych', async () => {
  const limited = payer({ price: 1n, maxSpendPerDay: 50n })
  limited.p.verified(100)
  limited.p.demanded(100n)
  for (let i = 0; i < 50 && limited.failures.length === 0; i++) await sleep(10)
  assert.equal(limited.failures[0]?.errorClass, 'price_too_high')
  assert.equal(limited.sent.length, 0)

  const broken = payer({ failOpen: 'not enough funds in the wallet' })
  broken.p.open()
  for (let i = 0; i < 50 && broken.failures.length === 0; i++) await sleep(10)
  assert.equal(broken.failures[0]?.errorClass, 'paych')
  assert.match(broken.failures[0].message, /not enough funds in the wallet/)
})

test('settle waits for the last demand of what verified bytes owe, and no longer than that', async () => {
  const { p, sent } = payer({ price: 1n, waitMs: 2_000 })
  p.verified(30)
  const done = p.settle(() => false)
  setTimeout(() => p.demanded(30n), 20) // FundsNeededLastPayment
  await done
  assert.deepEqual(
    sent.map((s) => s.paymentVoucher?.amount),
    [30n]
  )
  // All paid: settling again returns at once.
  await p.settle(() => false)
})
