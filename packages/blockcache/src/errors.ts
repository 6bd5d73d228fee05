/** The bytes do not hash to the CID's multihash: never stored, never served. */
export class BlockVerificationError extends Error {
  static override name = 'BlockVerificationError'
  override name = 'BlockVerificationError'
  readonly code = 'ERR_BLOCK_MISMATCH'
}

export class UnsupportedHashError extends Error {
  static override name = 'UnsupportedHashError'
  override name = 'UnsupportedHashError'
  readonly code = 'ERR_UNSUPPORTED_HASH'
}

export class AwaitTimeoutError extends Error {
  static override name = 'AwaitTimeoutError'
  override name = 'AwaitTimeoutError'
  readonly code = 'ERR_AWAIT_TIMEOUT'
}

export class CacheStoppedError extends Error {
  static override name = 'CacheStoppedError'
  override name = 'CacheStoppedError'
  readonly code = 'ERR_CACHE_STOPPED'
}

/** The block log could not read or write a segment; `code` says how. */
export class BlockLogError extends Error {
  static override name = 'BlockLogError'
  override name = 'BlockLogError'
  readonly code:
    | 'ERR_LOG_CLOSED'
    | 'ERR_BAD_KEY'
    | 'ERR_SEGMENT_GONE'
    | 'ERR_SEGMENT_BUSY'
    | 'ERR_SHORT_READ'
    | 'ERR_WRITE'
    | 'ERR_READ_ONLY'
    | 'ERR_LOCKED'

  constructor(message: string, code: BlockLogError['code']) {
    super(message)
    this.code = code
  }
}
