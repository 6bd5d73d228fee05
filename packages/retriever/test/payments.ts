// A test's RetrievalPayments: one payment channel kept in memory (the database-backed manager is
// packages/paych's), with real keys and really signed vouchers, so a provider stand-in can check
// every signature, lane, nonce and amount. It keeps what it did for the test to assert on.
import {
  type Address,
  actorAddress,
  addressOfKey,
  formatAddress,
  generatePrivateKey,
  type SignedVoucher,
  signVoucher
} from '@autoretrieve/chain'
import type { PaymentLane, RetrievalPayments } from '../src/index.ts'

export interface MemoryPayments extends RetrievalPayments {
  /** The wallet vouchers are signed by (the channel's From). */
  readonly from: Address
  readonly channel: Address
  readonly lanesOpened: Array<{ provider: string; paymentAddress: string; maxAmount: bigint }>
  readonly vouchers: SignedVoucher[]
  spentToday: bigint
}

/** Past the day's spend: what the manager throws (code ERR_SPEND_LIMIT). */
class SpendLimitError extends Error {
  readonly code = 'ERR_SPEND_LIMIT'
}

export function memoryPayments(init: { maxSpendPerDay?: bigint; failOpen?: string } = {}): MemoryPayments {
  const key = generatePrivateKey()
  const from = addressOfKey(key)
  const channel = actorAddress(new TextEncoder().encode(`test channel of ${formatAddress(from)}`))
  let nextLane = 0n
  const payments: MemoryPayments = {
    from,
    channel,
    lanesOpened: [],
    vouchers: [],
    spentToday: 0n,
    async remainingToday() {
      return init.maxSpendPerDay === undefined ? undefined : init.maxSpendPerDay - payments.spentToday
    },
    async openLane({ provider, paymentAddress, maxAmount }) {
      if (init.failOpen !== undefined) throw Object.assign(new Error(init.failOpen), { code: 'ERR_PAYCH' })
      payments.lanesOpened.push({ provider, paymentAddress, maxAmount })
      const lane = nextLane++
      let nonce = 0n
      let paid = 0n
      const handle: PaymentLane = {
        channel: formatAddress(channel),
        lane,
        get paid() {
          return paid
        },
        async voucher(amount) {
          if (amount <= paid) throw new RangeError(`voucher for ${amount} is not above ${paid}`)
          const more = amount - paid
          if (init.maxSpendPerDay !== undefined && payments.spentToday + more > init.maxSpendPerDay)
            throw new SpendLimitError(`${more} attoFIL more would pass max-spend-per-day ${init.maxSpendPerDay}`)
          nonce++
          payments.spentToday += more
          paid = amount
          const sv = signVoucher(
            {
              channelAddr: channel,
              timeLockMin: 0n,
              timeLockMax: 0n,
              secretHash: new Uint8Array(0),
              extra: null,
              lane,
              nonce,
              amount,
              minSettleHeight: 0n,
              merges: [],
              signature: null
            },
            key
          )
          payments.vouchers.push(sv)
          return sv
        }
      }
      return handle
    },
    async summary() {
      return {
        spentToday: String(payments.spentToday),
        maxSpendPerDay: init.maxSpendPerDay === undefined ? null : String(init.maxSpendPerDay),
        channels: []
      }
    }
  }
  return payments
}
