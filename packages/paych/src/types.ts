import type { SignedVoucher } from '@autoretrieve/chain'

/**
 * What the retriever uses (packages/retriever declares the same shape structurally as
 * `RetrievalPayments`, so neither package imports the other).
 */
export interface RetrievalPayments {
  /** attoFIL still spendable today under max-spend-per-day (undefined: no daily cap). */
  remainingToday(): Promise<bigint | undefined>
  /**
   * A new lane (persisted) on a channel from the default wallet to `paymentAddress` holding at
   * least `maxAmount` available, creating or funding it through Lotus as needed. PaychError (ERR_PAYCH).
   */
  openLane(init: {
    provider: string
    paymentAddress: string
    maxAmount: bigint
    signal: AbortSignal
  }): Promise<PaymentLane>
  /** For stats: the day's spend and every channel with its balance, what it paid and its lanes. */
  summary(): Promise<PaymentsSummary>
}

export interface PaymentLane {
  /** The channel's robust address (f2…). */
  channel: string
  lane: bigint
  /**
   * Signs a voucher for cumulative `amount` on this lane. The nonce and the day's spend are
   * stored first, in one transaction (SpendLimitError past max-spend-per-day), so a crash after
   * can skip a nonce but never reuse one.
   */
  voucher(amount: bigint): Promise<SignedVoucher>
  /** The cumulative amount of the last voucher signed on this lane. */
  readonly paid: bigint
}

export interface PaymentsSummary {
  /** attoFIL, decimal. */
  spentToday: string
  maxSpendPerDay: string | null
  channels: {
    address: string
    from: string
    to: string
    /** attoFIL this node put in the channel (create and add-funds). */
    balance: string
    /** attoFIL its lanes' vouchers add up to. */
    paid: string
    lanes: number
    settlingAt: number | null
  }[]
}

/** A channel as `paych list` shows it: the database's view, with the chain's where Lotus answered. */
export interface ChannelView {
  address: string
  idAddress: string
  from: string
  to: string
  /** attoFIL: the actor's balance on chain, or what this node put in when Lotus did not answer. */
  balance: string
  paid: string
  lanes: number
  /** Epoch from which Collect may run; null while the channel is open. */
  settlingAt: number | null
  collected: boolean
  /** Why the chain's view is missing, when it is. */
  chainError?: string
}
