// The provider's side of a payment, as lotus-markets' retrieval adapter runs it against its own
// Lotus node (SavePaymentVoucher): the channel must pay this provider, Lotus must find the voucher
// valid (signature by the channel's From, lane nonce above the last, funds in the channel:
// PaychVoucherCheckValid), and adding it must bring at least what is owed (PaychVoucherAdd's
// minDelta).
import {
  type Address,
  createLotusClient,
  formatAddress,
  type LotusClient,
  type SignedVoucher
} from '@autoretrieve/chain'
import type { DealPayment } from '@autoretrieve/filecoin'

/** Per Lotus call. */
const LOTUS_CALL_TIMEOUT_MS = 10_000
/** A Lotus answer to the calls made here is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024

/** A payment the provider refuses, with the reason the client is told. */
export class VoucherRejectedError extends Error {
  static override name = 'VoucherRejectedError'
  override name = 'VoucherRejectedError'
  readonly code = 'ERR_VOUCHER_REJECTED'
}

export interface VoucherChecker {
  /**
   * Checks `payment` and adds its voucher to Lotus; returns the attoFIL it adds over the best
   * voucher Lotus had for its lane. Throws VoucherRejectedError saying why.
   */
  accept(payment: DealPayment, minDelta: bigint, signal?: AbortSignal): Promise<bigint>
}

export function createVoucherChecker(init: { apiInfo: string; paymentAddress: Address }): VoucherChecker {
  const client: LotusClient = createLotusClient({
    apiInfo: init.apiInfo,
    timeoutMs: LOTUS_CALL_TIMEOUT_MS,
    maxResponseBytes: MAX_ANSWER_BYTES
  })
  const mine = formatAddress(init.paymentAddress)
  let mineId: string | undefined

  /** Lotus' words become the reason the client is told. */
  const reject = (cause: unknown): never => {
    if (cause instanceof VoucherRejectedError) throw cause
    throw new VoucherRejectedError((cause as Error).message, { cause })
  }

  return {
    async accept(payment, minDelta, signal) {
      const sv: SignedVoucher | null = payment.paymentVoucher
      if (sv === null) throw new VoucherRejectedError('the payment carries no voucher')
      const ch = payment.paymentChannel
      try {
        // The channel must pay us: Lotus' paychmgr refuses vouchers on a channel it does not own.
        const state = await client.stateReadPaych(ch, { signal })
        const to = formatAddress(state.to)
        if (to !== mine) {
          mineId ??= formatAddress(await client.stateLookupId(mine, { signal }))
          if (to !== mineId)
            throw new VoucherRejectedError(
              `payment channel ${formatAddress(ch)} pays ${to}, not this provider (${mine})`
            )
        }
        await client.paychVoucherCheckValid(ch, sv, { signal })
        const delta = await client.paychVoucherAdd(ch, sv, null, minDelta, { signal })
        // Lotus answers 0 for a voucher it already holds, whatever minDelta says.
        if (delta === 0n && minDelta > 0n) throw new VoucherRejectedError('voucher already received')
        return delta
      } catch (cause) {
        return reject(cause)
      }
    }
  }
}
