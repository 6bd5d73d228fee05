/** A peer sent bytes that are not a Bitswap message (or one over the size limit). */
export class MalformedMessageError extends Error {
  static override name = 'MalformedMessageError'
  override name = 'MalformedMessageError'
  readonly code = 'ERR_BITSWAP_MALFORMED'
}

export class MessageTooLargeError extends Error {
  static override name = 'MessageTooLargeError'
  override name = 'MessageTooLargeError'
  readonly code = 'ERR_BITSWAP_MESSAGE_TOO_LARGE'
}

export class BlockTooLargeError extends Error {
  static override name = 'BlockTooLargeError'
  override name = 'BlockTooLargeError'
  readonly code = 'ERR_BITSWAP_BLOCK_TOO_LARGE'
}
