import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { base32 } from 'multiformats/bases/base32'
import type { CID } from 'multiformats/cid'
import {
  DEFAULT_AWAIT_TIMEOUT_MS,
  DEFAULT_LOW_WATER_RATIO,
  DEFAULT_PIN_DURATION_MS,
  DEFAULT_SEGMENT_BYTES,
  MIN_RECLAIM_BYTES,
  PRUNE_INTERVAL_MS,
  TOUCH_THROTTLE_MS
} from './constants.ts'
import { AwaitTimeoutError, BlockLogError, BlockVerificationError, CacheStoppedError } from './errors.ts'
import { HotSet } from './hot-set.ts'
import { type Appended, BlockLog, RecordKind } from './log.ts'
import { isIdentity, matches } from './verify.ts'

export interface AbortOptions {
  signal?: AbortSignal
}

export interface PutOptions extends AbortOptions {
  /**
   * The caller has just checked `bytes` against the CID's multihash (the retriever does, before
   * its DAG walk), so put does not hash them a second time. Never set it for bytes from elsewhere.
   */
  hashChecked?: boolean
}

export interface Logger {
  debug(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
}

export interface BlockCacheInit {
  path: string
  pruneThresholdBytes?: number
  pinDurationMs?: number
  lowWaterRatio?: number
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

/** A block's record: where its data is, and its span (header, key, data: what the segment frees when it goes). */
interface Entry extends Appended {
  size: number
  lastUsed: number
}

interface Waiter {
  resolve(bytes: Uint8Array): void
  reject(err: Error): void
}

/** Blocks are stored by multihash: CIDv0/v1 and any codec of the same bytes are one block. */
function keyOf(cid: CID): string {
  return keyOfMultihash(cid.multihash.bytes)
}

function keyOfMultihash(multihash: Uint8Array): string {
  return base32.encode(multihash).slice(1)
}

/** The multihash a key was made from. */
function multihashOf(key: string): Uint8Array {
  return base32.decode(`b${key}`)
}

/**
 * The block cache: blocks appended to a log of segment files under `<path>/log/` (see log.ts for
 * the format and for why not a file per block), indexed in memory by multihash. Every put is
 * verified against the multihash before it is written, and every read from disk again before it
 * is served; a block read recently is served from the hot set (verified bytes in memory).
 * The index (where each block is, its size and last use) is rebuilt from the log at start; uses
 * are recorded in the log (at most one touch record a minute per block), so LRU order and
 * pin-duration survive a restart. A cache in the older layout (`<path>/blocks/<shard>/<key>`, a
 * file per block) is moved into the log at start.
 * Bytes returned by `get` may be shared with other readers: never modify them.
 */
export function createBlockCache(components: { logger?: Logger }, init: BlockCacheInit): BlockCache {
  const { logger } = components
  const now = init.now ?? Date.now
  const readOnly = init.readOnly ?? false
  const threshold = init.pruneThresholdBytes ?? 0
  const pinMs = init.pinDurationMs ?? DEFAULT_PIN_DURATION_MS
  const lowWater = Math.floor(threshold * (init.lowWaterRatio ?? DEFAULT_LOW_WATER_RATIO))
  const awaitTimeout = init.awaitTimeoutMs ?? DEFAULT_AWAIT_TIMEOUT_MS
  const log = new BlockLog({
    dir: join(init.path, 'log'),
    segmentBytes: init.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    readOnly,
    onSegmentGone: (id) => {
      // Its file was deleted behind our back: none of its blocks can be served or copied.
      let lost = 0
      for (const [key, e] of [...index]) {
        if (e.segment !== id) continue
        void forget(key, false)
        lost++
      }
      live.delete(id)
      logger?.warn({ segment: id, blocks: lost }, 'a block log segment is gone from disk; its blocks are forgotten')
    }
  })

  const index = new Map<string, Entry>()
  /** Bytes of each segment's records that are still the current record of a block. */
  const live = new Map<number, number>()
  const hot = new HotSet(Math.max(0, init.hotSetBytes ?? 0))
  const inflight = new Map<string, Promise<boolean>>()
  /** Verified blocks whose record is being written: served from memory until it is on disk. */
  const writing = new Map<string, Uint8Array>()
  /**
   * The last blocks written, oldest out first, up to init.recentBytes of the buffers they keep
   * alive (not just the blocks: a view pins its whole buffer). Read with `peek`: order is by write.
   */
  const recentLimit = Math.max(0, init.recentBytes ?? 0)
  const recent = new HotSet(recentLimit, { maxBlockBytes: recentLimit, weigh: (b) => b.buffer.byteLength })
  const remember = (key: string, bytes: Uint8Array) => {
    if (bytes.byteLength > recentLimit) return // off (0) or too large: no copy for nothing
    // A view into a much larger buffer (a parser's chunk) would keep all of it alive: keep a copy.
    // @ipld/car hands out views into buffers ~25% larger than a 256 KiB block: those are kept.
    const own = bytes.buffer.byteLength > 2 * bytes.byteLength ? new Uint8Array(bytes) : bytes
    recent.add(key, own)
  }
  const reading = new Map<string, Promise<Uint8Array | undefined>>()
  const waiters = new Map<string, Set<Waiter>>()
  const blockListeners = new Set<(cid: CID, bytes: Uint8Array) => void>()
  const corruptListeners = new Set<(cid: CID) => void>()
  let total = 0
  /** Bytes of the live blocks' records on disk (headers and keys too): what the log shrinks to at best. */
  let liveSpan = 0
  let corrupt = 0
  let pruned = 0
  let pruning: Promise<{ removedBlocks: number; removedBytes: number }> | undefined
  let pruneTimer: NodeJS.Timeout | undefined
  let started = false

  const addLive = (segment: number, bytes: number) => live.set(segment, (live.get(segment) ?? 0) + bytes)

  const place = (key: string, entry: Entry) => {
    const previous = index.get(key)
    if (previous !== undefined) {
      addLive(previous.segment, -previous.span)
      total -= previous.size
      liveSpan -= previous.span
    }
    index.set(key, entry)
    addLive(entry.segment, entry.span)
    total += entry.size
    liveSpan += entry.span
  }

  /** Drops a block from memory and the index; `record` also writes a drop record, so a restart agrees. */
  const forget = (key: string, record: boolean): Promise<void> => {
    recent.delete(key)
    hot.delete(key)
    const e = index.get(key)
    if (e === undefined) return Promise.resolve()
    index.delete(key)
    addLive(e.segment, -e.span)
    total -= e.size
    liveSpan -= e.span
    if (!record || readOnly) return Promise.resolve()
    return log.append(RecordKind.drop, multihashOf(key), now()).then(
      () => {},
      (err) => logger?.warn({ err }, 'could not record a dropped block; it may reappear after a restart')
    )
  }

  const touch = (key: string) => {
    const e = index.get(key)
    if (e === undefined) return
    const t = now()
    if (t - e.lastUsed < TOUCH_THROTTLE_MS) {
      e.lastUsed = Math.max(e.lastUsed, t)
      return
    }
    e.lastUsed = t
    if (readOnly) return
    // Persist the use so LRU order and pins survive a restart; best effort, off the read path.
    log.append(RecordKind.touch, multihashOf(key), t).catch(() => {})
  }

  const emit = <A extends unknown[]>(listeners: Set<(...a: A) => void>, ...args: A) => {
    for (const l of listeners) {
      try {
        l(...args)
      } catch (err) {
        logger?.warn({ err }, 'block cache listener failed')
      }
    }
  }

  const markCorrupt = (cid: CID, key: string) => {
    corrupt++
    forget(key, true)
    logger?.warn({ cid: cid.toString() }, 'cached block failed verification; removed')
    emit(corruptListeners, cid)
  }

  /**
   * Prunes when the log is over the threshold, or (whatever the threshold, 0 included) when half of
   * it is dead: deleted blocks, superseded copies, touch and drop records.
   */
  const maybePrune = () => {
    if (!started || readOnly || pruning !== undefined) return
    const disk = log.bytes()
    const overThreshold = threshold > 0 && disk > threshold
    const dead = disk - log.pendingBytes() - liveSpan
    if (!overThreshold && dead < Math.max(disk / 2, MIN_RECLAIM_BYTES)) return
    setImmediate(() => {
      if (started) cache.prune().catch((err) => logger?.warn({ err }, 'prune failed'))
    })
  }

  /** Reads a block from the log and verifies it; a mismatch is dropped and reported, never returned. */
  async function readVerified(cid: CID, key: string): Promise<Uint8Array | undefined> {
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
          markCorrupt(cid, key)
          return undefined
        }
        if (err.code !== 'ERR_SEGMENT_GONE' || index.get(key) === e) {
          forget(key, false)
          return undefined
        }
      }
    }
    if (bytes === undefined) return undefined
    if (!matches(cid, bytes)) {
      markCorrupt(cid, key)
      return undefined
    }
    // Deleted or pruned while it was read: not ours to keep.
    if (index.has(key)) hot.add(key, bytes)
    touch(key)
    return bytes
  }

  /** Rebuilds the index from the log. */
  async function scan(): Promise<void> {
    index.clear()
    live.clear()
    total = 0
    liveSpan = 0
    await log.open(
      (r) => {
        const key = keyOfMultihash(r.key)
        if (r.kind === RecordKind.block) {
          place(key, { segment: r.segment, offset: r.offset, size: r.size, span: r.span, lastUsed: r.time })
        } else if (r.kind === RecordKind.touch) {
          const e = index.get(key)
          if (e !== undefined) e.lastUsed = Math.max(e.lastUsed, r.time)
        } else forget(key, false)
      },
      (damage) => logger?.warn(damage, 'block log segment damaged; cut where its readable records end')
    )
  }

  /**
   * Moves a cache in the older layout, a file per block under blocks/<shard>/, into the log (last
   * use = the file's mtime), one file at a time, then removes the old directories. A file whose
   * name is not a key is left where it is.
   */
  async function importFileLayout(): Promise<void> {
    const blocksDir = join(init.path, 'blocks')
    let shards: string[]
    try {
      shards = await readdir(blocksDir)
    } catch {
      return
    }
    let moved = 0
    let left = 0
    for (const shard of shards) {
      let names: string[] = []
      try {
        names = await readdir(join(blocksDir, shard))
      } catch {
        continue
      }
      for (const name of names) {
        const file = join(blocksDir, shard, name)
        let multihash: Uint8Array
        try {
          multihash = multihashOf(name)
        } catch {
          left++
          continue
        }
        if (index.has(name)) {
          await rm(file, { force: true })
          continue
        }
        let bytes: Buffer
        let info: Awaited<ReturnType<typeof stat>>
        try {
          ;[bytes, info] = await Promise.all([readFile(file), stat(file)])
        } catch (err) {
          logger?.warn({ err, file }, 'could not read a block file of the older layout; left where it is')
          left++
          continue
        }
        let at: Appended
        try {
          at = await log.append(RecordKind.block, multihash, info.mtimeMs, bytes)
        } catch (err) {
          // A full disk, say: the rest stays where it is for the next start, and this one goes on.
          logger?.warn(
            { err, moved },
            'could not move the older block files into the log; the rest stay for the next start'
          )
          left++
          break
        }
        place(name, { ...at, size: bytes.byteLength, lastUsed: info.mtimeMs })
        await rm(file, { force: true })
        moved++
      }
    }
    if (left === 0) await rm(blocksDir, { recursive: true, force: true })
    await rm(join(init.path, 'tmp'), { recursive: true, force: true })
    logger?.info({ moved, left }, 'moved the block cache from a file per block into the block log')
  }

  /**
   * Frees disk space once blocks are gone, oldest segment first: its live blocks are copied to the
   * end of the log (with their last use), then it is deleted, until the log is down to `target`.
   * Always the oldest: a touch or drop record only speaks of blocks written before it, in its own
   * segment or older ones, so once those are gone it says nothing a restart needs. (Reclaiming a
   * newer, emptier segment first lost drop records whose blocks were still on disk: a deleted block
   * came back after a restart.) A segment is copied only while the log holds at least as many dead
   * bytes as it has live ones: with every block pinned, no segment is rewritten to free a few bytes.
   */
  async function reclaim(target: number): Promise<void> {
    const liveIn = (id: number) => live.get(id) ?? 0
    for (const s of log.list()) {
      if (s.bytes === 0 && !s.active && !s.pending) await log.remove(s.id) // left by failed writes
    }
    // Every segment's keys, gathered once: walking the index per segment cost blocks x segments.
    const keysOf = new Map<number, string[]>()
    for (const [key, e] of index) {
      const keys = keysOf.get(e.segment)
      if (keys === undefined) keysOf.set(e.segment, [key])
      else keys.push(key)
    }
    const worth = (id: number) => {
      // Dead: neither a live block's record nor a record still being written.
      const dead = log.bytes() - log.pendingBytes() - liveSpan
      return dead > 0 && liveIn(id) <= dead
    }
    while (started && log.bytes() > target) {
      let oldest = log.oldest()
      if (oldest === undefined || !worth(oldest.id)) break
      if (oldest.pending) {
        // Records on their way to it (puts, touches, drops): let them land, without waiting for
        // writes that keep coming to the segment being written, which is sealed first.
        if (oldest.active) log.seal()
        await log.whenWritten(oldest.id)
        oldest = log.oldest()
        const id = oldest?.id
        if (id !== undefined)
          keysOf.set(
            id,
            [...index].filter(([, e]) => e.segment === id).map(([key]) => key)
          )
      }
      if (oldest === undefined || oldest.pending || !worth(oldest.id)) break
      if (oldest.active) log.seal()
      for (const key of keysOf.get(oldest.id) ?? []) {
        const e = index.get(key)
        if (e === undefined || e.segment !== oldest.id) continue
        let buf: Buffer
        try {
          buf = await log.read(e, e.size)
        } catch (err) {
          // Unreadable (its file removed behind our back, say): it cannot be kept.
          logger?.warn({ err, key }, 'could not copy a block out of a segment being reclaimed; dropped')
          if (index.get(key) === e) forget(key, false)
          continue
        }
        if (index.get(key) !== e) continue // dropped while it was read
        const at = await log.append(RecordKind.block, multihashOf(key), e.lastUsed, buf)
        if (index.get(key) === e) place(key, { ...at, size: e.size, lastUsed: e.lastUsed })
      }
      // A put that landed in it after the keys were gathered: next prune.
      if (liveIn(oldest.id) > 0 || log.oldest()?.pending) break
      await log.remove(oldest.id)
      live.delete(oldest.id)
    }
  }

  const cache: BlockCache = {
    async start() {
      await mkdir(init.path, { recursive: true })
      await scan()
      if (!readOnly) await importFileLayout()
      started = true
      if (!readOnly) {
        pruneTimer = setInterval(maybePrune, PRUNE_INTERVAL_MS)
        pruneTimer.unref()
        maybePrune()
      }
      logger?.debug({ blocks: index.size, bytes: total }, 'block cache opened')
    },

    async stop() {
      started = false
      hot.clear()
      if (pruneTimer) clearInterval(pruneTimer)
      await Promise.allSettled([...inflight.values()])
      await pruning?.catch(() => {})
      await log.close()
      const stopped = new CacheStoppedError('the block cache stopped')
      for (const set of waiters.values()) for (const w of set) w.reject(stopped)
      waiters.clear()
    },

    async has(cid) {
      return cache.contains(cid)
    },

    contains(cid) {
      if (isIdentity(cid)) return true
      const key = keyOf(cid)
      return index.has(key) || writing.has(key)
    },

    size(cid) {
      if (isIdentity(cid)) return cid.multihash.digest.byteLength
      const key = keyOf(cid)
      return index.get(key)?.size ?? writing.get(key)?.byteLength
    },

    async get(cid, options) {
      if (isIdentity(cid)) return cid.multihash.digest
      const key = keyOf(cid)
      const fresh = writing.get(key) ?? recent.peek(key)
      if (fresh !== undefined) {
        touch(key) // a block still being written is not in the index yet: nothing to touch
        return fresh // verified by put, not long ago
      }
      if (!index.has(key)) return undefined
      const cached = hot.get(key)
      if (cached !== undefined) {
        touch(key)
        return cached
      }
      options?.signal?.throwIfAborted()
      // Peers fetching one DAG ask for the same block at the same moment: one read serves them all.
      let pending = reading.get(key)
      if (pending === undefined) {
        pending = readVerified(cid, key).finally(() => reading.delete(key))
        reading.set(key, pending)
      }
      const bytes = await pending
      options?.signal?.throwIfAborted()
      return bytes
    },

    async put(cid, bytes, options) {
      if (readOnly) throw new BlockLogError('the block cache is open read-only', 'ERR_READ_ONLY')
      if (!options?.hashChecked && !matches(cid, bytes)) {
        throw new BlockVerificationError(`block does not match ${cid}: its bytes hash to something else`)
      }
      if (isIdentity(cid)) return false
      const key = keyOf(cid)
      if (index.has(key)) {
        touch(key)
        return false
      }
      const pending = inflight.get(key)
      if (pending !== undefined) {
        await pending
        return false
      }
      options?.signal?.throwIfAborted()
      const write = (async () => {
        const lastUsed = now()
        const at = await log.append(RecordKind.block, cid.multihash.bytes, lastUsed, bytes)
        place(key, { ...at, size: bytes.byteLength, lastUsed })
        return true
      })()
      inflight.set(key, write)
      writing.set(key, bytes)
      // The bytes are verified, so waiters and listeners hear of the block now, while its file is
      // written: a peer waiting for it is served from memory instead of after the disk. A listener
      // that re-enters the cache finds the block (has/get see `writing`) or awaits this write,
      // which depends on no listener, so it cannot deadlock the cache.
      const waiting = waiters.get(key)
      waiters.delete(key)
      if (waiting) for (const w of waiting) w.resolve(bytes)
      emit(blockListeners, cid, bytes)
      try {
        await write
        remember(key, bytes)
      } finally {
        inflight.delete(key)
        writing.delete(key)
      }
      maybePrune()
      return true
    },

    async delete(cid) {
      if (readOnly) throw new BlockLogError('the block cache is open read-only', 'ERR_READ_ONLY')
      const key = keyOf(cid)
      // A put under way: let it land, then delete it (a denied block must not stay).
      await inflight.get(key)?.catch(() => {})
      if (!index.has(key)) return false
      await forget(key, true) // resolved once the drop is in the log: a restart agrees
      return true
    },

    await(cid, options = {}) {
      return (async () => {
        const present = await cache.get(cid, options)
        if (present !== undefined) return present
        if (!started) throw new CacheStoppedError('the block cache is not running')
        const key = keyOf(cid)
        const timeoutMs = options.timeoutMs ?? awaitTimeout
        return new Promise<Uint8Array>((resolve, reject) => {
          let set = waiters.get(key)
          if (set === undefined) {
            set = new Set()
            waiters.set(key, set)
          }
          const cleanup = () => {
            clearTimeout(timer)
            options.signal?.removeEventListener('abort', onAbort)
            const s = waiters.get(key)
            s?.delete(waiter)
            if (s?.size === 0) waiters.delete(key)
          }
          const waiter: Waiter = {
            resolve: (bytes) => {
              cleanup()
              resolve(bytes)
            },
            reject: (err) => {
              cleanup()
              reject(err)
            }
          }
          const onAbort = () => waiter.reject(options.signal?.reason ?? new DOMException('aborted', 'AbortError'))
          const timer = setTimeout(
            () => waiter.reject(new AwaitTimeoutError(`no block ${cid} within ${timeoutMs} ms`)),
            timeoutMs
          )
          timer.unref()
          if (options.signal?.aborted) return onAbort()
          options.signal?.addEventListener('abort', onAbort, { once: true })
          set.add(waiter)
          // The block may have landed while we looked it up, or be on its way to disk now.
          const landing = writing.get(key)
          if (landing !== undefined) waiter.resolve(landing)
          else if (index.has(key)) {
            cache.get(cid).then((b) => (b ? waiter.resolve(b) : undefined), waiter.reject)
          }
        })
      })()
    },

    onBlock(listener) {
      blockListeners.add(listener)
      return () => blockListeners.delete(listener)
    },

    onCorrupt(listener) {
      corruptListeners.add(listener)
      return () => corruptListeners.delete(listener)
    },

    prune() {
      // One prune at a time; a call during one runs again after it, with the clock as it is now.
      if (pruning) return pruning.catch(() => {}).then(() => cache.prune())
      pruning = (async () => {
        let removedBlocks = 0
        let removedBytes = 0
        if (!started || readOnly) return { removedBlocks, removedBytes }
        if (threshold > 0 && log.bytes() > threshold) {
          // Least recently used first, never a pinned block, until the blocks' records would fit
          // under low water (records, not bytes of blocks: with small blocks the headers count).
          const cutoff = now() - pinMs
          const victims = [...index.entries()]
            .filter(([, e]) => e.lastUsed < cutoff)
            .sort((a, b) => a[1].lastUsed - b[1].lastUsed)
          const gone: Array<[string, Entry]> = []
          for (const [key, entry] of victims) {
            if (liveSpan <= lowWater) break
            if (index.get(key) !== entry) continue
            forget(key, false)
            gone.push([key, entry])
            removedBlocks++
            removedBytes += entry.size
          }
          pruned += removedBlocks
          // Down to the threshold, not to low water: the log always holds more than the blocks'
          // records, so aiming lower could copy every segment forward on every prune.
          await reclaim(threshold)
          // A pruned block whose segment is still there gets a drop record, or a restart would find
          // it; not one put again meanwhile (a drop after its new record would drop that).
          const remaining = new Set(log.list().map((s) => s.id))
          await Promise.all(
            gone
              .filter(([key, e]) => remaining.has(e.segment) && !index.has(key) && !inflight.has(key))
              .map(([key]) => log.append(RecordKind.drop, multihashOf(key), now()).catch(() => {}))
          )
          if (log.bytes() > threshold && liveSpan > lowWater) {
            logger?.warn(
              { bytes: total, diskBytes: log.bytes(), threshold },
              'cache is over prune-threshold but every remaining block is pinned (used within pin-duration)'
            )
          }
        } else {
          // Under the threshold (or none): give back dead space, as far as it is worth copying.
          await reclaim(liveSpan)
        }
        logger?.debug({ removedBlocks, removedBytes, bytes: total, diskBytes: log.bytes() }, 'pruned the block cache')
        return { removedBlocks, removedBytes }
      })().finally(() => {
        pruning = undefined
      })
      return pruning
    },

    stats() {
      let awaiting = 0
      for (const s of waiters.values()) awaiting += s.size
      return { blocks: index.size, bytes: total, diskBytes: log.bytes(), corrupt, pruned, awaiting }
    },

    hotSet() {
      return { blocks: hot.blocks, bytes: hot.bytes, hits: hot.hits }
    }
  }
  return cache
}
