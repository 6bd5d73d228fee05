/**
 * A payment channel, lane or voucher could not be had: no wallet key, Lotus unreachable or
 * refusing, too little in the wallet, a message that failed on chain. The message says which, and
 * where (the Lotus URL, the wallet directory, the message CID).
 */
export class PaychError extends Error {
  static override name = 'PaychError'
  override name = 'PaychError'
  readonly code = 'ERR_PAYCH'
}

/** A voucher would take the day's spend past max-spend-per-day; nothing was signed or stored. */
export class SpendLimitError extends Error {
  static override name = 'SpendLimitError'
  override name = 'SpendLimitError'
  readonly code = 'ERR_SPEND_LIMIT'
}
