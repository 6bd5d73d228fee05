import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type Logger, multihashKey, silentLogger } from '@autoretrieve/interface'
import { BlockIndex, multihashOfKey } from './block-index.ts'
import {
  DEFAULT_AWAIT_TIMEOUT_MS,
  DEFAULT_LOW_WATER_RATIO,
  DEFAULT_PIN_DURATION_MS,
  DEFAULT_SEGMENT_BYTES,
  TOUCH_THROTTLE_MS
} from './constants.ts'
import { BlockLogError, BlockVerificationError, CacheStoppedError } from './errors.ts'
import { importFileLayout, importFlatfs } from './legacy-import.ts'
import { BlockLog } from './log.ts'
import { BlockNotifier } from './notifier.ts'
import { Pruner } from './prune.ts'
import { ReadPath } from './read-path.ts'
import { RecordKind } from './record.ts'
import type { BlockCache, BlockCacheInit } from './types.ts'
import { isIdentity, matches } from './verify.ts'

/**
 * The block cache: blocks appended to a log of segment files under `<path>/log/` (see log.ts for
 * the format and for why not a file per block), indexed in memory by multihash (block-index.ts).
 * Every put is verified against the multihash before it is written, and every read from disk again
 * before it is served (read-path.ts). The index is rebuilt from the log at start; uses are recorded
 * in the log (at most one touch record a minute per block), so LRU order and pin-duration survive a
 * restart. Pruning and compaction: prune.ts, compaction.ts; await and listeners: notifier.ts; a
 * cache in the older file-per-block layout is moved into the log at start (legacy-import.ts).
 * Here the parts are wired, and put and delete, which change several of them at once.
 * Bytes returned by `get` may be shared with other readers: never modify them.
 */
export function createBlockCache(components: { logger?: Logger }, init: BlockCacheInit): BlockCache {
  const logger = components.logger ?? silentLogger
  const now = init.now ?? Date.now
  const readOnly = init.readOnly ?? false
  const threshold = init.pruneThresholdBytes ?? 0
  const awaitTimeout = init.awaitTimeoutMs ?? DEFAULT_AWAIT_TIMEOUT_MS
  let started = false

  const index = new BlockIndex()
  const log = new BlockLog({
    dir: join(init.path, 'log'),
    segmentBytes: init.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    readOnly,
    onSegmentGone: (id) => {
      // Its file was deleted behind our back: none of its blocks can be served or copied.
      const lost = index.keysIn(id)
      for (const key of lost) void forget(key, false)
      logger.warn(
        { segment: id, blocks: lost.length },
        'a block log segment is gone from disk; its blocks are forgotten'
      )
    }
  })
  const notifier = new BlockNotifier({ logger })
  /** Puts under way, by key: a second put of the block, and a delete, wait for the first. */
  const inflight = new Map<string, Promise<boolean>>()
  let corrupted = 0

  /** Drops a block from memory and the index; `record` also writes a drop record, so a restart agrees. */
  const forget = (key: string, record: boolean): Promise<void> => {
    reader.evict(key)
    if (index.remove(key) === undefined || !record || readOnly) return Promise.resolve()
    return log.append(RecordKind.drop, multihashOfKey(key), now()).then(
      () => {},
      (err) => logger.warn({ err }, 'could not record a dropped block; it may reappear after a restart')
    )
  }

  const touch = (key: string) => {
    const t = now()
    if (!index.use(key, t, TOUCH_THROTTLE_MS) || readOnly) return
    // Persist the use so LRU order and pins survive a restart; best effort, off the read path.
    log.append(RecordKind.touch, multihashOfKey(key), t).catch(() => {})
  }

  const reader = new ReadPath(
    {
      log,
      index,
      touch,
      lost: (key) => void forget(key, false),
      corrupt: (cid, key) => {
        corrupted++
        void forget(key, true)
        logger.warn({ cid: cid.toString() }, 'cached block failed verification; removed')
        notifier.corrupt(cid)
      }
    },
    { hotSetBytes: init.hotSetBytes ?? 0, recentBytes: init.recentBytes ?? 0 }
  )

  const pruner = new Pruner(
    {
      log,
      index,
      logger,
      running: () => started && !readOnly,
      putting: (key) => inflight.has(key),
      lost: (key) => void forget(key, false)
    },
    {
      thresholdBytes: threshold,
      lowWaterBytes: Math.floor(threshold * (init.lowWaterRatio ?? DEFAULT_LOW_WATER_RATIO)),
      pinMs: init.pinDurationMs ?? DEFAULT_PIN_DURATION_MS,
      now
    }
  )

  /** Rebuilds the index from the log. */
  const scan = async () => {
    index.clear()
    await log.open(
      (r) => {
        const key = multihashKey(r.key)
        if (r.kind === RecordKind.block) {
          index.place(key, { segment: r.segment, offset: r.offset, size: r.size, span: r.span, lastUsed: r.time })
        } else if (r.kind === RecordKind.touch) index.usedAt(key, r.time)
        else void forget(key, false)
      },
      (damage) => logger.warn(damage, 'block log segment damaged; cut where its readable records end')
    )
  }

  const cache: BlockCache = {
    async start() {
      await mkdir(init.path, { recursive: true })
      await scan()
      if (!readOnly) {
        await importFileLayout({ log, index, logger }, init.path)
        await importFlatfs({ log, index, logger }, init.path)
      }
      started = true
      if (!readOnly) pruner.start()
      logger.debug({ blocks: index.size, bytes: index.bytes }, 'block cache opened')
    },

    async stop() {
      started = false
      reader.clearHot()
      await Promise.allSettled([...inflight.values()])
      await pruner.stop()
      await log.close()
      notifier.rejectAll(new CacheStoppedError('the block cache stopped'))
    },

    async has(cid) {
      return cache.contains(cid)
    },

    contains(cid) {
      return isIdentity(cid) || reader.contains(multihashKey(cid))
    },

    size(cid) {
      return isIdentity(cid) ? cid.multihash.digest.byteLength : reader.size(multihashKey(cid))
    },

    async get(cid, options) {
      if (isIdentity(cid)) return cid.multihash.digest
      return reader.get(cid, multihashKey(cid), options)
    },

    async put(cid, bytes, options) {
      if (readOnly) throw new BlockLogError('the block cache is open read-only', 'ERR_READ_ONLY')
      if (!options?.hashChecked && !matches(cid, bytes)) {
        throw new BlockVerificationError(`block does not match ${cid}: its bytes hash to something else`)
      }
      if (isIdentity(cid)) return false
      const key = multihashKey(cid)
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
        index.place(key, { ...at, size: bytes.byteLength, lastUsed })
        return true
      })()
      inflight.set(key, write)
      reader.writing.set(key, bytes)
      // The bytes are verified, so waiters and listeners hear of the block now, while its record is
      // written: a peer waiting for it is served from memory instead of after the disk. A listener
      // that re-enters the cache finds the block (has/get see `writing`) or awaits this write,
      // which depends on no listener, so it cannot deadlock the cache.
      notifier.block(key, cid, bytes)
      try {
        await write
        reader.remember(key, bytes)
      } finally {
        inflight.delete(key)
        reader.writing.delete(key)
      }
      pruner.maybePrune()
      return true
    },

    async delete(cid) {
      if (readOnly) throw new BlockLogError('the block cache is open read-only', 'ERR_READ_ONLY')
      const key = multihashKey(cid)
      // A put under way: let it land, then delete it (a denied block must not stay).
      await inflight.get(key)?.catch(() => {})
      if (!index.has(key)) return false
      await forget(key, true) // resolved once the drop is in the log: a restart agrees
      return true
    },

    async await(cid, options = {}) {
      const present = await cache.get(cid, options)
      if (present !== undefined) return present
      if (!started) throw new CacheStoppedError('the block cache is not running')
      const key = multihashKey(cid)
      const timeoutMs = options.timeoutMs ?? awaitTimeout
      return notifier.wait(key, cid, { signal: options.signal, timeoutMs }, () => {
        // Landed while we looked it up, or on its way to disk now.
        return reader.writing.get(key) ?? (index.has(key) ? cache.get(cid) : undefined)
      })
    },

    onBlock: (listener) => notifier.onBlock(listener),
    onCorrupt: (listener) => notifier.onCorrupt(listener),
    prune: () => pruner.prune(),

    stats() {
      const { pruned } = pruner
      const { awaiting } = notifier
      return { blocks: index.size, bytes: index.bytes, diskBytes: log.bytes(), corrupt: corrupted, pruned, awaiting }
    },

    hotSet: () => reader.hotSet()
  }
  return cache
}
