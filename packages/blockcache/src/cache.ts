import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { base32 } from 'multiformats/bases/base32'
import type { CID } from 'multiformats/cid'
import {
  DEFAULT_AWAIT_TIMEOUT_MS,
  DEFAULT_LOW_WATER_RATIO,
  DEFAULT_PIN_DURATION_MS,
  PRUNE_INTERVAL_MS,
  TOUCH_THROTTLE_MS
} from './constants.ts'
import { AwaitTimeoutError, BlockVerificationError, CacheStoppedError } from './errors.ts'
import { HotSet } from './hot-set.ts'
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
   * Make the 1,024 shard directories a fresh cache lacks in the background, from start: a
   * long-running node's first retrievals then skip a mkdir per block. One-shot commands (fetch,
   * import) leave it off: for one DAG it costs more than it saves.
   * @default false
   */
  prepareShards?: boolean
  /** Clock for pin-duration decisions (tests). */
  now?: () => number
}

export interface BlockCacheStats {
  blocks: number
  bytes: number
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

interface Entry {
  size: number
  lastUsed: number
}

interface Waiter {
  resolve(bytes: Uint8Array): void
  reject(err: Error): void
}

/** The characters of a key (base32, lowercase): a shard is two of them. */
const SHARD_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** Blocks are stored by multihash: CIDv0/v1 and any codec of the same bytes are one file. */
function keyOf(cid: CID): string {
  return base32.encode(cid.multihash.bytes).slice(1)
}

/**
 * The block cache: one file per block under `<path>/blocks/<shard>/`, sharded by the key's
 * next-to-last two characters (as flatfs does). Writes go to `<path>/tmp/` and are renamed into
 * place, so a crash never leaves a partial block where a reader could find it. Every put is
 * verified against the multihash before it is written, and every read from disk again before it
 * is served; a block read recently is served from the hot set (verified bytes in memory).
 * Sizes and last-use times live in memory, rebuilt from the files at start (last use = mtime).
 * Bytes returned by `get` may be shared with other readers: never modify them.
 */
export function createBlockCache(components: { logger?: Logger }, init: BlockCacheInit): BlockCache {
  const { logger } = components
  const blocksDir = join(init.path, 'blocks')
  const tmpDir = join(init.path, 'tmp')
  const now = init.now ?? Date.now
  const threshold = init.pruneThresholdBytes ?? 0
  const pinMs = init.pinDurationMs ?? DEFAULT_PIN_DURATION_MS
  const lowWater = Math.floor(threshold * (init.lowWaterRatio ?? DEFAULT_LOW_WATER_RATIO))
  const awaitTimeout = init.awaitTimeoutMs ?? DEFAULT_AWAIT_TIMEOUT_MS

  const index = new Map<string, Entry>()
  const hot = new HotSet(Math.max(0, init.hotSetBytes ?? 0))
  const inflight = new Map<string, Promise<boolean>>()
  /** Verified blocks whose file is being written: served from memory until it is in place. */
  const writing = new Map<string, Uint8Array>()
  /** Shard directories known to exist, so a put does not try a rename that fails first. */
  const knownShards = new Set<string>()
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
  let corrupt = 0
  let pruned = 0
  let pruning: Promise<{ removedBlocks: number; removedBytes: number }> | undefined
  let pruneTimer: NodeJS.Timeout | undefined
  let started = false
  let preparing: Promise<void> | undefined

  const pathOf = (key: string) => join(blocksDir, key.slice(-3, -1), key)

  const forget = (key: string) => {
    recent.delete(key)
    hot.delete(key)
    const e = index.get(key)
    if (e === undefined) return
    index.delete(key)
    total -= e.size
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
    // Persist the use so LRU order survives a restart; best effort, off the read path.
    const secs = t / 1000
    utimes(pathOf(key), secs, secs).catch(() => {})
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

  const markCorrupt = async (cid: CID, key: string) => {
    corrupt++
    forget(key)
    await unlink(pathOf(key)).catch(() => {})
    logger?.warn({ cid: cid.toString() }, 'cached block failed verification; removed')
    emit(corruptListeners, cid)
  }

  const maybePrune = () => {
    if (threshold > 0 && total > threshold && pruning === undefined) {
      setImmediate(() => {
        cache.prune().catch((err) => logger?.warn({ err }, 'prune failed'))
      })
    }
  }

  /** Reads a block file and verifies it; a mismatch is removed and reported, never returned. */
  async function readVerified(cid: CID, key: string): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array
    try {
      const buf = await readFile(pathOf(key))
      bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        forget(key)
        return undefined
      }
      throw err
    }
    if (!matches(cid, bytes)) {
      await markCorrupt(cid, key)
      return undefined
    }
    // Deleted or pruned while it was read: not ours to keep.
    if (index.has(key)) hot.add(key, bytes)
    touch(key)
    return bytes
  }

  async function scan(): Promise<void> {
    index.clear()
    total = 0
    let shards: string[] = []
    try {
      shards = await readdir(blocksDir)
    } catch {}
    for (const shard of shards) {
      knownShards.add(shard)
      let names: string[] = []
      try {
        names = await readdir(join(blocksDir, shard))
      } catch {
        continue
      }
      for (const name of names) {
        try {
          const s = await stat(join(blocksDir, shard, name))
          index.set(name, { size: s.size, lastUsed: s.mtimeMs })
          total += s.size
        } catch {}
      }
    }
  }

  /**
   * Makes the shard directories a fresh cache lacks, one at a time, in the background. A new cache
   * makes a directory with nearly every block it stores until most of the 1024 exist, and on ext4
   * mkdir is the dearest part of a put: 256 puts of 256 KiB took 50 ms of system time into
   * existing shards and 190 ms with a mkdir each. Done once, a node's first retrievals skip it.
   */
  async function prepareShards(): Promise<void> {
    for (const a of SHARD_ALPHABET) {
      for (const b of SHARD_ALPHABET) {
        if (!started) return
        try {
          await ensureShard(a + b)
        } catch (err) {
          logger?.debug({ err, shard: a + b }, 'could not make a shard directory ahead; puts will')
          return
        }
      }
    }
  }

  /** Makes a shard directory once (blocks/ exists: start made it, so a plain mkdir, not a recursive one). */
  async function ensureShard(shard: string): Promise<void> {
    if (knownShards.has(shard)) return
    await mkdir(join(blocksDir, shard)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
    })
    knownShards.add(shard)
  }

  const cache: BlockCache = {
    async start() {
      await mkdir(blocksDir, { recursive: true })
      // Leftovers of writes interrupted by a crash: never renamed into place, so never visible.
      await rm(tmpDir, { recursive: true, force: true })
      await mkdir(tmpDir, { recursive: true })
      await scan()
      started = true
      if (init.prepareShards) preparing = prepareShards()
      if (threshold > 0) {
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
      await preparing
      await Promise.allSettled([...inflight.values()])
      await pruning?.catch(() => {})
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
      const write = (async () => {
        const tmp = join(tmpDir, `${key}.${randomBytes(6).toString('hex')}`)
        const shard = key.slice(-3, -1)
        const final = pathOf(key)
        await ensureShard(shard)
        await writeFile(tmp, bytes, { signal: options?.signal })
        try {
          await rename(tmp, final)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
          await mkdir(join(blocksDir, shard), { recursive: true }) // removed behind our back
          await rename(tmp, final)
        }
        index.set(key, { size: bytes.byteLength, lastUsed: now() })
        total += bytes.byteLength
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
      const key = keyOf(cid)
      if (!index.has(key)) return false
      forget(key)
      await unlink(pathOf(key)).catch(() => {})
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
          // The block may have landed while we looked it up.
          if (index.has(key)) {
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
      if (pruning) return pruning
      pruning = (async () => {
        let removedBlocks = 0
        let removedBytes = 0
        if (threshold <= 0 || total <= threshold) return { removedBlocks, removedBytes }
        const cutoff = now() - pinMs
        const victims = [...index.entries()]
          .filter(([, e]) => e.lastUsed < cutoff)
          .sort((a, b) => a[1].lastUsed - b[1].lastUsed)
        for (const [key, entry] of victims) {
          if (total <= lowWater) break
          if (index.get(key) !== entry) continue
          forget(key)
          await unlink(pathOf(key)).catch(() => {})
          removedBlocks++
          removedBytes += entry.size
        }
        pruned += removedBlocks
        if (total > threshold) {
          logger?.warn(
            { bytes: total, threshold },
            'cache is over prune-threshold but every remaining block is pinned (used within pin-duration)'
          )
        }
        logger?.debug({ removedBlocks, removedBytes, bytes: total }, 'pruned the block cache')
        return { removedBlocks, removedBytes }
      })().finally(() => {
        pruning = undefined
      })
      return pruning
    },

    stats() {
      let awaiting = 0
      for (const s of waiters.values()) awaiting += s.size
      return { blocks: index.size, bytes: total, corrupt, pruned, awaiting }
    },

    hotSet() {
      return { blocks: hot.blocks, bytes: hot.bytes, hits: hot.hits }
    }
  }
  return cache
}
