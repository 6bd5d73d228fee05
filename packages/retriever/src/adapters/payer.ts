// Paying a provider during a Graphsync transfer (data-transfer.md §8.4–8.6): a lane is opened when
// the priced deal is accepted, and each demand for payment (FundsNeededUnseal, FundsNeeded,
// FundsNeededLastPayment) is paid only once the bytes verified so far justify it:
// verified bytes × price per byte + unseal price. Never ahead of the data, never past the terms.
import { parseAddress } from '@autoretrieve/chain'
import { createVoucherRequest, type TransferMessage } from '@autoretrieve/filecoin'
import { AttemptError } from '../errors.ts'
import type { AttemptPayment, PaymentLane } from '../types.ts'

export interface DealPayerInit {
  /** The provider's peer ID (names it in messages and identifies the lane's owner). */
  provider: string
  /** The provider's payment address (its query answer's `PaymentAddress`), e.g. f0… or f1…. */
  paymentAddress: string
  dealId: bigint
  transferId: bigint
  /** The proposal's terms. */
  pricePerByte: bigint
  unsealPrice: bigint
  /** The most the lane may carry: the ask's total cost, capped by max-retrieval-cost. */
  maxTotal: bigint
  payment: AttemptPayment
  /** Sends a data-transfer message to the provider on a stream of its own. */
  send(message: TransferMessage, signal: AbortSignal): Promise<void>
  /** The attempt's signal: nothing is opened, signed or sent after it aborts. */
  signal: AbortSignal
  /** How long a demand may wait for the bytes that justify it (DEFAULT_PAYMENT_WAIT_MS). */
  waitMs: number
  /** Ends the attempt with this error; called at most once. */
  fail(error: AttemptError): void
  /** Stops the attempt's timeouts while a lane is opened (a channel may be created on chain); returns the release. */
  hold?(): () => void
}

/**
 * One deal's payments. The provider's `PaymentOwed` is what it is owed beyond what it has been
 * paid, so the amount asked is what we paid plus that; the voucher for it carries that cumulative
 * amount on the lane. Demands are kept, not queued: the newest one is what is owed.
 */
export class DealPayer {
  readonly #init: DealPayerInit
  #verifiedBytes = 0n
  /** Cumulative amount of the last voucher signed. */
  #paid = 0n
  /** Cumulative amount the provider asks for, when it asks more than was paid. */
  #demand: bigint | undefined
  #lane: Promise<PaymentLane> | undefined
  #paying = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #failed = false
  /** Wakes a `settle` waiting for the last payment. */
  #wake: () => void = () => {}

  constructor(init: DealPayerInit) {
    this.#init = init
  }

  /** What verified bytes are worth at the proposal's terms, the unseal price included. */
  get #justified(): bigint {
    return this.#verifiedBytes * this.#init.pricePerByte + this.#init.unsealPrice
  }

  /** The provider accepted the priced deal: open the lane (once), so the first payment does not wait for the chain. */
  open(): void {
    this.#openLane().catch(() => {}) // a failure already failed the attempt
  }

  #openLane(): Promise<PaymentLane> {
    if (this.#lane !== undefined) return this.#lane
    const { payment, provider, paymentAddress, maxTotal, signal } = this.#init
    const release = this.#init.hold?.()
    this.#lane = payment.payments
      .openLane({ provider, paymentAddress, maxAmount: maxTotal, signal })
      .catch((cause) => {
        this.#fail(
          new AttemptError('paych', `no payment lane to ${provider} (${paymentAddress}): ${(cause as Error).message}`, {
            cause
          })
        )
        throw cause
      })
      .finally(() => release?.())
    return this.#lane
  }

  /** A demand for `owed` attoFIL beyond what was paid (a DealResponse's `PaymentOwed`). */
  demanded(owed: bigint): void {
    if (this.#failed || owed <= 0n) return
    this.open()
    const total = this.#paid + owed
    const { maxTotal, provider } = this.#init
    if (total > maxTotal) {
      this.#fail(
        new AttemptError(
          'overcharged',
          `${provider} asks ${total} attoFIL in all, more than the ${maxTotal} its terms (and the caps) allow`
        )
      )
      return
    }
    this.#demand = total
    this.#tryPay()
  }

  /** `bytes` more of the DAG arrived and were hashed against their CIDs. */
  verified(bytes: number): void {
    this.#verifiedBytes += BigInt(bytes)
    this.#tryPay()
  }

  #fail(error: AttemptError): void {
    if (this.#failed) return
    this.#failed = true
    clearTimeout(this.#timer)
    this.#init.fail(error)
    this.#wake()
  }

  #tryPay(): void {
    const demand = this.#demand
    if (this.#failed || demand === undefined || demand <= this.#paid) {
      clearTimeout(this.#timer)
      this.#timer = undefined
      this.#wake()
      return
    }
    if (this.#paying) return // the running payment looks again when it ends
    if (demand > this.#justified) {
      // Asked ahead of the bytes: they may still be on their way. Wait a bounded time for them.
      this.#timer ??= setTimeout(() => {
        const d = this.#demand
        if (d !== undefined && d > this.#paid && d > this.#justified) {
          this.#fail(
            new AttemptError(
              'overcharged',
              `${this.#init.provider} asks ${d} attoFIL in all for ${this.#verifiedBytes} verified bytes, worth ${this.#justified} at its terms`
            )
          )
        }
      }, this.#init.waitMs)
      return
    }
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#paying = true
    this.#pay(demand).finally(() => {
      this.#paying = false
      this.#tryPay()
    })
  }

  async #pay(amount: bigint): Promise<void> {
    const { provider, signal } = this.#init
    let lane: PaymentLane
    try {
      lane = await this.#openLane()
    } catch {
      return // failed in #openLane
    }
    if (this.#failed || signal.aborted) return
    let voucher: Awaited<ReturnType<PaymentLane['voucher']>>
    try {
      voucher = await lane.voucher(amount)
    } catch (cause) {
      const code = (cause as { code?: unknown }).code
      this.#fail(
        new AttemptError(
          code === 'ERR_SPEND_LIMIT' ? 'price_too_high' : 'paych',
          `no voucher for ${amount} attoFIL to ${provider}: ${(cause as Error).message}`,
          { cause }
        )
      )
      return
    }
    // Signed is spent: the day's spend was charged and the voucher is good on chain.
    this.#paid = amount
    this.#init.payment.onPaid(amount, lane.channel)
    const message = createVoucherRequest({
      transferId: this.#init.transferId,
      payment: { id: this.#init.dealId, paymentChannel: parseAddress(lane.channel), paymentVoucher: voucher }
    })
    try {
      await this.#init.send(message, signal)
    } catch (cause) {
      if (signal.aborted) return
      this.#fail(
        new AttemptError('connect_failed', `could not send ${provider} its voucher: ${(cause as Error).message}`, {
          cause
        })
      )
    }
  }

  /**
   * After the last block: waits, at most `waitMs`, until every verified byte is paid for (the
   * provider's last demand arriving and paid), the provider says the deal is complete
   * (`completed`), or the attempt fails. Nothing is paid that was not asked for.
   */
  async settle(completed: () => boolean): Promise<void> {
    const deadline = Date.now() + this.#init.waitMs
    while (!this.#failed && !this.#init.signal.aborted && !completed()) {
      const owed = this.#justified > this.#paid
      if (!owed && !this.#paying) return
      const left = deadline - Date.now()
      if (left <= 0) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100))
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  /** Stops the wait for a demand's bytes. */
  close(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#wake()
  }
}
