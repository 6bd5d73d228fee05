/** The Go autoretrieve made a Bitswap want wait at most 10 minutes for its block. */
export const DEFAULT_AWAIT_TIMEOUT_MS = 10 * 60_000
/** Go default pin-duration: blocks used within the last hour are never pruned. */
export const DEFAULT_PIN_DURATION_MS = 60 * 60_000
/** Prune down to 90% of the threshold, so one prune makes room for a while (Go meant half, then pruned a whole threshold by mistake). */
export const DEFAULT_LOW_WATER_RATIO = 0.9
/** The Go pruner checked every 10 s. */
export const PRUNE_INTERVAL_MS = 10_000
/** A use is written to the log (a touch record) at most this often per block, so hits stay cheap. */
export const TOUCH_THROTTLE_MS = 60_000
/** A segment of the block log is closed at this size; pruning frees space a segment at a time. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
/** Dead space below this is never worth a compaction on its own (with no threshold, or under it). */
export const MIN_RECLAIM_BYTES = 16 * 1024 * 1024
