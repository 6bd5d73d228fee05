/** The indexer (or Estuary) answered, but not with something we can use. The message says what was wrong. */
export class IndexerResponseError extends Error {
  static override name = 'IndexerResponseError'
  override name = 'IndexerResponseError'
  readonly code = 'ERR_INDEXER_RESPONSE'
}

/** The indexer could not be reached, or answered with a server error (5xx). */
export class IndexerUnavailableError extends Error {
  static override name = 'IndexerUnavailableError'
  override name = 'IndexerUnavailableError'
  readonly code = 'ERR_INDEXER_UNAVAILABLE'
}

/** The lookup did not finish within its timeout (headers or body). */
export class IndexerTimeoutError extends Error {
  static override name = 'IndexerTimeoutError'
  override name = 'IndexerTimeoutError'
  readonly code = 'ERR_INDEXER_TIMEOUT'
}

/** A miner address could not be turned into a peer (Lotus unreachable, unknown actor, no peer ID on chain). */
export class MinerResolutionError extends Error {
  static override name = 'MinerResolutionError'
  override name = 'MinerResolutionError'
  readonly code = 'ERR_MINER_RESOLUTION'
  readonly miner: string

  constructor(miner: string, message: string, options?: ErrorOptions) {
    super(`miner ${miner}: ${message}`, options)
    this.miner = miner
  }
}

/** FULLNODE_API_INFO is not a form we can speak to. */
export class InvalidApiInfoError extends Error {
  static override name = 'InvalidApiInfoError'
  override name = 'InvalidApiInfoError'
  readonly code = 'ERR_INVALID_API_INFO'
}

/**
 * The node's indexer lookups were all busy and their queue full: the lookup was not made. The
 * node's own limit, not the indexer's failure (the retrieval's outcome is `overloaded`).
 */
export class LookupQueueFullError extends Error {
  static override name = 'LookupQueueFullError'
  override name = 'LookupQueueFullError'
  readonly code = 'ERR_LOOKUP_QUEUE_FULL'
}
