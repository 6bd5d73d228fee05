/**
 * @autoretrieve/blockcache: the block cache every part meets at. The Bitswap server reads it and
 * waits on it (`await`, `onBlock`); retrievals write to it. Verified on every put (once: a caller
 * that just hashed the bytes says so) and every read from disk; announced as soon as verified and
 * served from memory until its file is in place; recently written and recently read blocks are
 * served from bounded memory; written atomically, keyed by multihash, pruned least-recently-used
 * above a threshold.
 */
export {
  type AbortOptions,
  type BlockCache,
  type BlockCacheInit,
  type BlockCacheStats,
  createBlockCache,
  type HotSetStats,
  type Logger,
  type PutOptions
} from './cache.ts'
export { AwaitTimeoutError, BlockVerificationError, CacheStoppedError, UnsupportedHashError } from './errors.ts'
export { matches as blockMatches } from './verify.ts'
