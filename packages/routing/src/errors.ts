/** The indexer answered, but not with something we can use. Says what was wrong. */
export class IndexerResponseError extends Error {
  static override name = 'IndexerResponseError'
  override name = 'IndexerResponseError'
  readonly code = 'ERR_INDEXER_RESPONSE'
}

/** The indexer could not be reached or timed out. */
export class IndexerUnavailableError extends Error {
  static override name = 'IndexerUnavailableError'
  override name = 'IndexerUnavailableError'
  readonly code = 'ERR_INDEXER_UNAVAILABLE'
}

export class MinerResolutionError extends Error {
  static override name = 'MinerResolutionError'
  override name = 'MinerResolutionError'
  readonly code = 'ERR_MINER_RESOLUTION'
}
