// A test's RetrievalPayments: lanes kept in memory (the database-backed manager is packages/paych's),
// with real keys and really signed vouchers, so a provider stand-in can check every signature,
// lane, nonce and amount. With `lotusApiInfo` the channel is really created, and funded, on the
// Lotus stand-in through the init actor, so the provider's Lotus checks the vouchers against it.
// It keeps what it did for the test to assert on.
import {
  type Address,
  actorAddress,
  addressOfKey,
  BuiltinMethod,
  createLotusClient,
  decodeExecReturn,
  encodeInitExecParams,
  encodePaychConstructorParams,
  formatAddress,
  generatePrivateKey,
  INIT_ACTOR,
  laneVoucher,
  parseAddress,
  type SignedVoucher,
  signVoucher
} from '@autoretrieve/chain'
import type { PaymentLane, RetrievalPayments } from '../src/index.ts'

export interface MemoryPayments extends RetrievalPayments {
  /** The wallet vouchers are signed by (the channel's From). */
  readonly from: Address
  /** The channel (one for every provider here): made up, or the one created on Lotus. */
  channel: Address
  readonly lanesOpened: Array<{ provider: string; paymentAddress: string; maxAmount: bigint }>
  readonly vouchers: SignedVoucher[]
  spentToday: bigint
}

/** Past the day's spend: what the manager throws (code ERR_SPEND_LIMIT). */
class SpendLimitError extends Error {
  readonly code = 'ERR_SPEND_LIMIT'
}

export function memoryPayments(
  init: { maxSpendPerDay?: bigint; failOpen?: string; lotusApiInfo?: string } = {}
): MemoryPayments {
  const key = generatePrivateKey()
  const from = addressOfKey(key)
  let nextLane = 0n
  let created: Promise<Address> | undefined
  /** The channel on Lotus: Init Exec of a payment channel actor from our wallet to `to`, funded with `amount`. */
  const createChannel = async (to: string, amount: bigint, signal: AbortSignal): Promise<Address> => {
    const lotus = createLotusClient({ apiInfo: init.lotusApiInfo!, confidence: 1 })
    const codes = await lotus.stateActorCodeCids(await lotus.stateNetworkVersion())
    const receipt = await lotus.pushMessage(
      key,
      {
        to: INIT_ACTOR,
        value: amount,
        method: BuiltinMethod.InitExec,
        params: encodeInitExecParams({
          codeCid: codes.paymentchannel,
          constructorParams: encodePaychConstructorParams({ from, to: parseAddress(to) })
        })
      },
      signal
    )
    return decodeExecReturn(receipt.return).robustAddress
  }
  const payments: MemoryPayments = {
    from,
    channel: actorAddress(new TextEncoder().encode(`test channel of ${formatAddress(from)}`)),
    lanesOpened: [],
    vouchers: [],
    spentToday: 0n,
    async remainingToday() {
      return init.maxSpendPerDay === undefined ? undefined : init.maxSpendPerDay - payments.spentToday
    },
    async openLane({ provider, paymentAddress, maxAmount, signal }) {
      if (init.failOpen !== undefined) throw Object.assign(new Error(init.failOpen), { code: 'ERR_PAYCH' })
      if (init.lotusApiInfo !== undefined) {
        created ??= createChannel(paymentAddress, maxAmount, signal)
        payments.channel = await created
      }
      const channel = payments.channel
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
          const sv = signVoucher(laneVoucher({ channel, lane, nonce, amount }), key)
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
