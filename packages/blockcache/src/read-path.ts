import type { AbortOptions } from '@autoretrieve/interface'
import { LRUCache } from 'lru-cache'
import type { CID } from 'multiformats/cid'
import type { BlockIndex } from './block-index.ts'
import { BlockLogError } from './errors.ts'
import type { BlockLog } from './log.ts'
import type { HotSetStats } from './types.ts'
import { matches } from './verify.ts'

export interface ReadPathComponents {
  log: Pick<BlockLog, 'read'>
  index: BlockIndex
  /** A use of an indexed block (for LRU order and pins). */
  touch(key: string): void
  /** The block's bytes on disk failed verification or are cut short. */
  corrupt(cid: CID, key: string): void
  /** The block cannot be read any more (its segment is gone): out of the index, nothing recorded. */
  lost(key: string): void
}

export interface ReadPathInit {
  /** Bytes of recently read, verified blocks kept in memory; 0: none. */
  hotSetBytes: number
  /** Bytes of buffers of the last blocks written kept in memory; 0: none. */
  recentBytes: number
}

/**
 * Memory bounded by bytes, least recently used out first. lru-cache in place of the hand-written
 * HotSet this was, measured on the hot path (a micro-benchmark, not kept: 256 KiB blocks under a
 * 64 MiB bound; 1M gets over 512 keys, a miss adding the block; 1M adds of new blocks, each with a
 * peek): lru-cache 0.30-0.34 µs a get and 0.50-0.53 µs an add, the HotSet 0.47-0.49 and 0.62-0.65
 * (medians of 9 runs, twice, on a busy 2-core machine; either is noise next to a disk read and a
 * hash). lru-cache wants sizes that are positive integers: an empty block counts as one byte.
 */
function blockMemory(maxBytes: number, maxEntryBytes: number, weigh: (b: Uint8Array) => number) {
  if (maxBytes < 1 || maxEntryBytes < 1) return undefined
  return new LRUCache<string, Uint8Array>({
    maxSize: maxBytes,
    maxEntrySize: maxEntryBytes,
    sizeCalculation: (b) => Math.max(1, weigh(b))
  })
}

/**
 * The read path: `get` and friends from the freshest copy there is. Blocks being written and the
 * last ones written (verified by put), then the hot set (verified when read from disk, trusted
 * while in memory), then the log, read and verified, one read shared by every caller of the
 * moment. Bytes handed out may be shared: nobody may modify them.
 */
export class ReadPath {
  /** Verified blocks whose record is being written: served from memory until it is on disk. */
  readonly writing = new Map<string, Uint8Array>()
  private readonly components: ReadPathComponents
  /**
   * The last blocks written, oldest out first, up to recentBytes of the buffers they keep alive
   * (not just the blocks: a view pins its whole buffer). Read with `peek`: order is by write.
   */
  private readonly recent: LRUCache<string, Uint8Array> | undefined
  private readonly recentBytes: number
  /** Recently read, verified blocks; a block over an eighth of it is never kept (it would crowd out many). */
  private readonly hot: LRUCache<string, Uint8Array> | undefined
  private readonly reading = new Map<string, Promise<Uint8Array | undefined>>()
  private hits = 0

  constructor(components: ReadPathComponents, init: ReadPathInit) {
    this.components = components
    this.recentBytes = Math.max(0, init.recentBytes)
    this.recent = blockMemory(this.recentBytes, this.recentBytes, (b) => b.buffer.byteLength)
    const hotBytes = Math.max(0, init.hotSetBytes)
    this.hot = blockMemory(hotBytes, Math.floor(hotBytes / 8), (b) => b.byteLength)
  }

  /** Whether the block is here: the index and the blocks being written are in memory. */
  contains(key: string): boolean {
    return this.components.index.has(key) || this.writing.has(key)
  }

  size(key: string): number | undefined {
    return this.components.index.get(key)?.size ?? this.writing.get(key)?.byteLength
  }

  async get(cid: CID, key: string, options?: AbortOptions): Promise<Uint8Array | undefined> {
    const { index, touch } = this.components
    const fresh = this.writing.get(key) ?? this.recent?.peek(key)
    if (fresh !== undefined) {
      touch(key) // a block still being written is not in the index yet: nothing to touch
      return fresh // verified by put, not long ago
    }
    if (!index.has(key)) return undefined
    const cached = this.hot?.get(key)
    if (cached !== undefined) {
      this.hits++
      touch(key)
      return cached
    }
    options?.signal?.throwIfAborted()
    // Peers fetching one DAG ask for the same block at the same moment: one read serves them all.
    let pending = this.reading.get(key)
    if (pending === undefined) {
      pending = this.readVerified(cid, key).finally(() => this.reading.delete(key))
      this.reading.set(key, pending)
    }
    const bytes = await pending
    options?.signal?.throwIfAborted()
    return bytes
  }

  /** A block just written (verified): kept among the recent ones if it fits. */
  remember(key: string, bytes: Uint8Array): void {
    if (this.recent === undefined || bytes.byteLength > this.recentBytes) return // no copy for nothing
    // A view into a much larger buffer (a parser's chunk) would keep all of it alive: keep a copy.
    // @ipld/car hands out views into buffers ~25% larger than a 256 KiB block: those are kept.
    const own = bytes.buffer.byteLength > 2 * bytes.byteLength ? new Uint8Array(bytes) : bytes
    this.recent.set(key, own)
  }

  /** The block is gone (deleted, pruned, corrupt): never served from memory again. */
  evict(key: string): void {
    this.recent?.delete(key)
    this.hot?.delete(key)
  }

  /** Empties the hot set (the cache stopped). */
  clearHot(): void {
    this.hot?.clear()
  }

  hotSet(): HotSetStats {
    return { blocks: this.hot?.size ?? 0, bytes: this.hot?.calculatedSize ?? 0, hits: this.hits }
  }

  /** Reads a block from the log and verifies it; a mismatch is dropped and reported, never returned. */
  private async readVerified(cid: CID, key: string): Promise<Uint8Array | undefined> {
    const { index, log, corrupt, lost } = this.components
    let bytes: Uint8Array | undefined
    // Compaction may move the block while it is read: then its old segment is gone, and the index
    // says where it went. A move needs a prune, and prunes do not overlap, so a few tries do.
    for (let attempt = 0; attempt < 3 && bytes === undefined; attempt++) {
      const e = index.get(key)
      if (e === undefined) return undefined
      try {
        const buf = await log.read(e, e.size)
        bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      } catch (err) {
        if (!(err instanceof BlockLogError)) throw err
        if (err.code === 'ERR_SHORT_READ') {
          corrupt(cid, key)
          return undefined
        }
        if (err.code !== 'ERR_SEGMENT_GONE' || index.get(key) === e) {
          lost(key)
          return undefined
        }
      }
    }
    if (bytes === undefined) return undefined
    if (!matches(cid, bytes)) {
      corrupt(cid, key)
      return undefined
    }
    // Deleted or pruned while it was read: not ours to keep.
    if (index.has(key)) this.hot?.set(key, bytes)
    this.components.touch(key)
    return bytes
  }
}
