/**
 * @autoretrieve/blockcache: the block cache every part meets at. The Bitswap server reads it and
 * waits on it (`await`, `onBlock`); retrievals write to it. Verified on every put and every read
 * from disk (recently read blocks are served from a bounded in-memory hot set of verified bytes),
 * written atomically, keyed by multihash, pruned least-recently-used above a threshold.
 */
export {
  type AbortOptions,
  type BlockCache,
  type BlockCacheInit,
  type BlockCacheStats,
  createBlockCache,
  type HotSetStats,
  type Logger
} from './cache.ts'
export { AwaitTimeoutError, BlockVerificationError, CacheStoppedError, UnsupportedHashError } from './errors.ts'
export { matches as blockMatches } from './verify.ts'
