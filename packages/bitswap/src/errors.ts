import type { FrameTooLargeError, MalformedFrameError } from '@autoretrieve/frames'

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

/** A peer took none of a message for SEND_TIMEOUT_MS: its queued answers are dropped. */
export class PeerNotReadingError extends Error {
  static override name = 'PeerNotReadingError'
  override name = 'PeerNotReadingError'
  readonly code = 'ERR_BITSWAP_PEER_NOT_READING'
}

/** The frame reader's errors as Bitswap's own (`readFrames`' `mapError`). */
export function toMessageError(err: MalformedFrameError | FrameTooLargeError): Error {
  return err.name === 'FrameTooLargeError'
    ? new MessageTooLargeError(err.message, { cause: err })
    : new MalformedMessageError(err.message, { cause: err })
}
