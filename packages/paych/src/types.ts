import type { SignedVoucher } from '@autoretrieve/chain'

/**
 * Payment channels as the retriever pays with them and the admin plane reports them: the one
 * definition, which packages/retriever and packages/admin import as types. Amounts are attoFIL.
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

/** One lane of a payment channel, for one deal. */
export interface PaymentLane {
  /** The channel's robust address (f2…). */
  channel: string
  lane: bigint
  /**
   * Signs a voucher for cumulative `amount` on this lane. The nonce and the day's spend are
   * stored first, in one transaction (SpendLimitError, ERR_SPEND_LIMIT, past max-spend-per-day),
   * so a crash after can skip a nonce but never reuse one.
   */
  voucher(amount: bigint): Promise<SignedVoucher>
  /** The cumulative amount of the last voucher signed on this lane. */
  readonly paid: bigint
}

/** One payment channel from this node's wallet to a provider, amounts in attoFIL (decimal strings). */
export interface PaymentChannelSummary {
  /** The channel's robust address (f2…). */
  address: string
  /** The paying wallet (f1…) and the provider's payment address. */
  from: string
  to: string
  /** attoFIL this node put in the channel (create and add-funds). */
  balance: string
  /** attoFIL its lanes' vouchers add up to. */
  paid: string
  /** Lanes opened on it (one per paid attempt). */
  lanes: number
  /** The epoch at which a settle completes, null while not settling. */
  settlingAt: number | null
}

/** What `summary()` answers: the day's spend (UTC) against its cap, and the channels. */
export interface PaymentsSummary {
  /** attoFIL charged against today's limit. */
  spentToday: string
  /** The `max-spend-per-day` cap in attoFIL, null when there is none. */
  maxSpendPerDay: string | null
  channels: PaymentChannelSummary[]
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
