/** Lassie gives an indexer lookup a few seconds; a Bitswap client gives up on a silent peer after ~7 s. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 5_000
/** A miner's peer ID rarely changes: keep Lotus answers an hour. */
export const MINER_CACHE_TTL_MS = 60 * 60_000
/** A failed resolution is retried after this, not on every want. */
export const MINER_FAILURE_TTL_MS = 30_000
