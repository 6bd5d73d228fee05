/**
 * @autoretrieve/blockcache: the block cache every part meets at. The Bitswap server reads it and
 * waits on it (`await`, `onBlock`); retrievals write to it. Blocks are keyed by multihash and
 * appended to a log of segment files under `<path>/log/` (one writer per cache, by a lock file);
 * the index is in memory, rebuilt from the log at start. Verified on every put (once: a caller that
 * just hashed the bytes says so) and every read from disk; announced as soon as verified and served
 * from memory until its record is written; recently written and recently read blocks are served
 * from bounded memory. Above a threshold, least recently used blocks are pruned (never one used
 * within pin-duration) and segments compacted; a cache in the older file-per-block layout is moved
 * into the log at start. Read-only opens serve a cache another process writes (check-cid).
 */
export { createBlockCache } from './cache.ts'
export { AwaitTimeoutError, BlockVerificationError, CacheStoppedError, UnsupportedHashError } from './errors.ts'
export type { BlockCache, BlockCacheInit, BlockCacheStats, HotSetStats, PutOptions } from './types.ts'
export { matches as blockMatches } from './verify.ts'
