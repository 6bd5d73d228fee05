/** The wallet directory or a key in it cannot be used; the message names the file, never the key. */
export class WalletError extends Error {
  static override name = 'WalletError'
  override name = 'WalletError'
  readonly code = 'ERR_WALLET'
}

/** No key for that address in the wallet. */
export class KeyNotFoundError extends Error {
  static override name = 'KeyNotFoundError'
  override name = 'KeyNotFoundError'
  readonly code = 'ERR_KEY_NOT_FOUND'
}
