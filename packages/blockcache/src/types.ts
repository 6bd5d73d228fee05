import type { AbortOptions } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'

/** The block cache's public types; `createBlockCache` (cache.ts) makes one. */

export interface PutOptions extends AbortOptions {
  /**
   * The caller has just checked `bytes` against the CID's multihash (the retriever does, before
   * its DAG walk), so put does not hash them a second time. Never set it for bytes from elsewhere.
   */
  hashChecked?: boolean
}

export interface BlockCacheInit {
  /** The cache's directory: the block log is `<path>/log/`, its lock `<path>/log.lock`. */
  path: string
  /**
   * Above this many bytes of log on disk, least recently used blocks are pruned; 0: never (deleted
   * blocks' space is still given back).
   * @default 0
   */
  pruneThresholdBytes?: number
  /**
   * Blocks used within this long are never pruned.
   * @default 1 hour (DEFAULT_PIN_DURATION_MS)
   */
  pinDurationMs?: number
  /**
   * A prune removes blocks until their records fit in this share of the threshold.
   * @default 0.9 (DEFAULT_LOW_WATER_RATIO)
   */
  lowWaterRatio?: number
  /**
   * How long `await` waits for a block unless told otherwise.
   * @default 10 minutes (DEFAULT_AWAIT_TIMEOUT_MS)
   */
  awaitTimeoutMs?: number
  /**
   * Bytes of the most recently written blocks to keep in memory and serve from there (verified on
   * put, so not hashed again): a peer that asks for a block a retrieval wrote a moment ago gets it
   * without a disk read. 0 turns it off, and every read goes to disk.
   * @default 0
   */
  recentBytes?: number
  /**
   * Bytes of recently read, verified blocks kept in memory (0: none). A hit is served without a
   * disk read or a re-hash: a block is verified when it is read from disk, then trusted while it
   * stays in memory. Counted in the process's RSS, so keep it small.
   */
  hotSetBytes?: number
  /**
   * Size at which a segment of the block log is closed and a new one begun. Pruning frees space a
   * segment at a time (copying a segment's live blocks forward), so smaller segments free space
   * sooner at the cost of more files.
   * @default 64 MiB
   */
  segmentBytes?: number
  /**
   * Open to read only, beside a node that writes this cache (check-cid): no lock, nothing written,
   * cut, pruned or recorded (uses, drops), blocks the node writes afterwards not seen; put and
   * delete throw. Without it, start() takes the cache's lock: one writer per cache.
   * @default false
   */
  readOnly?: boolean
  /** Clock for pin-duration decisions (tests). */
  now?: () => number
}

export interface BlockCacheStats {
  blocks: number
  /** Bytes of the blocks held. */
  bytes: number
  /** Bytes of the block log on disk: the blocks, record headers, and space not yet reclaimed. */
  diskBytes: number
  corrupt: number
  pruned: number
  awaiting: number
}

export interface HotSetStats {
  blocks: number
  bytes: number
  hits: number
}

export interface BlockCache {
  start(): Promise<void>
  stop(): Promise<void>
  has(cid: CID, options?: AbortOptions): Promise<boolean>
  /** `has` at once: the index and the blocks being written are in memory. */
  contains(cid: CID): boolean
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined>
  /** The size of a stored block from the index (no disk access); undefined when absent. */
  size(cid: CID): number | undefined
  put(cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<boolean>
  delete(cid: CID, options?: AbortOptions): Promise<boolean>
  await(cid: CID, options?: AbortOptions & { timeoutMs?: number }): Promise<Uint8Array>
  onBlock(listener: (cid: CID, bytes: Uint8Array) => void): () => void
  onCorrupt(listener: (cid: CID) => void): () => void
  prune(options?: AbortOptions): Promise<{ removedBlocks: number; removedBytes: number }>
  stats(): BlockCacheStats
  hotSet(): HotSetStats
}
