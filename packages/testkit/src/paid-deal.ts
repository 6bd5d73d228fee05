// One paid retrieval deal on the provider's side, as a lotus-markets (go-fil-markets) provider
// keeps it: what the client agreed to pay, what has been sent and paid, and the data limit that
// says how far the transfer may run ahead of the payments (data-transfer.md §8.4).
import { DealStatus } from '@autoretrieve/filecoin'

/** The provider's terms (its query answer) or a proposal's (what the client agreed to). */
export interface PaidTerms {
  pricePerByte: bigint
  unsealPrice: bigint
  paymentInterval: bigint
  paymentIntervalIncrease: bigint
}

/**
 * Why a proposal does not meet the ask, in go-fil-markets' words (CheckDealParams), or undefined
 * when it does: prices at least the ask's, intervals at most its maxima.
 */
export function checkProposedTerms(ask: PaidTerms, proposed: PaidTerms): string | undefined {
  if (proposed.pricePerByte < ask.pricePerByte) return 'Price per byte too low'
  if (proposed.paymentInterval > ask.paymentInterval) return 'Payment interval too large'
  if (proposed.paymentIntervalIncrease > ask.paymentIntervalIncrease) return 'Payment interval increase too large'
  if (proposed.unsealPrice < ask.unsealPrice) return 'Unseal price too small'
  // A zero interval would ask for payment before a single byte, forever.
  if (proposed.pricePerByte > 0n && proposed.paymentInterval === 0n) return 'Payment interval must be positive'
  return undefined
}

/** Why the transfer stops before the next block: the status and amount of the DealResponse to send. */
export interface PaymentDemand {
  status: typeof DealStatus.FundsNeededUnseal | typeof DealStatus.FundsNeeded | typeof DealStatus.FundsNeededLastPayment
  /** attoFIL owed beyond what was received (the DealResponse's PaymentOwed). */
  owed: bigint
}

export class PaidDeal {
  readonly dealId: bigint
  readonly transferId: bigint
  readonly terms: PaidTerms
  /** Bytes of blocks queued to the client so far. */
  bytesSent = 0n
  /** attoFIL the accepted vouchers added up to (their deltas). */
  fundsReceived = 0n
  /** How many bytes may be sent before the next payment is due. */
  limit: bigint
  /** The size of the interval that took the limit to where it is. */
  #interval: bigint
  /** The transfer stopped at the limit: a full payment moves the limit on. */
  #atLimit = false

  constructor(init: { dealId: bigint; transferId: bigint; terms: PaidTerms }) {
    this.dealId = init.dealId
    this.transferId = init.transferId
    this.terms = init.terms
    this.#interval = init.terms.paymentInterval
    this.limit = init.terms.paymentInterval
  }

  /** Everything owed for what was sent: bytes × price, plus the unseal price. */
  get totalDue(): bigint {
    return this.bytesSent * this.terms.pricePerByte + this.terms.unsealPrice
  }

  /** What is owed beyond what was received. */
  get owed(): bigint {
    const owed = this.totalDue - this.fundsReceived
    return owed > 0n ? owed : 0n
  }

  /**
   * Asked before the next block (`blockBytes`) or, `last`, before the final message: the demand
   * to pause with, or undefined to go on. The unseal price is due before any byte; then a block
   * that would take the transfer past the limit waits until what was sent is paid for (a block is
   * never split: one larger than a whole interval goes out when nothing is owed); at the end,
   * whatever is still owed is the last payment.
   */
  demand(bytesSent: bigint, blockBytes: bigint, last: boolean): PaymentDemand | undefined {
    this.bytesSent = bytesSent
    if (this.fundsReceived < this.terms.unsealPrice)
      return { status: DealStatus.FundsNeededUnseal, owed: this.terms.unsealPrice - this.fundsReceived }
    const owed = this.owed
    if (owed === 0n) return undefined
    if (last) return { status: DealStatus.FundsNeededLastPayment, owed }
    if (bytesSent + blockBytes > this.limit) {
      this.#atLimit = true
      return { status: DealStatus.FundsNeeded, owed }
    }
    return undefined
  }

  /**
   * A voucher added `delta` attoFIL. Once everything sent is paid for, a transfer stopped at the
   * limit gets the next interval (each one `paymentIntervalIncrease` larger than the one before:
   * go-fil-markets' NextInterval), and as many more as it takes to pass the bytes paid for.
   */
  credit(delta: bigint): void {
    this.fundsReceived += delta
    if (this.owed > 0n || !this.#atLimit) return
    this.#atLimit = false
    do {
      this.#interval += this.terms.paymentIntervalIncrease
      this.limit += this.#interval
    } while (this.limit <= this.bytesSent)
  }
}
