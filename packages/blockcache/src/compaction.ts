import type { Logger } from '@autoretrieve/interface'
import { type BlockIndex, multihashOfKey } from './block-index.ts'
import { MIN_RECLAIM_BYTES } from './constants.ts'
import type { BlockLog } from './log.ts'
import { RecordKind } from './record.ts'

/** What compaction needs of the log (a fake in unit tests). */
export type CompactableLog = Pick<
  BlockLog,
  'list' | 'oldest' | 'bytes' | 'pendingBytes' | 'seal' | 'whenWritten' | 'read' | 'append' | 'remove'
>

export interface CompactionComponents {
  log: CompactableLog
  index: BlockIndex
  logger: Logger
  /** Whether to go on (false once the cache stops). */
  running(): boolean
  /** A block that cannot be copied is out of the index (and out of memory), nothing recorded. */
  lost(key: string): void
}

/** Bytes of the log that are dead: neither a live block's record nor a record still being written. */
export function deadBytes(log: Pick<BlockLog, 'bytes' | 'pendingBytes'>, index: BlockIndex): number {
  return log.bytes() - log.pendingBytes() - index.liveSpan
}

/**
 * Whether to prune now: the log is over the threshold, or (whatever the threshold, 0 included)
 * half of it is dead (deleted blocks, superseded copies, touch and drop records), and at least
 * MIN_RECLAIM_BYTES.
 */
export function needsPrune(state: { diskBytes: number; deadBytes: number; thresholdBytes: number }): boolean {
  const { diskBytes, deadBytes, thresholdBytes } = state
  if (thresholdBytes > 0 && diskBytes > thresholdBytes) return true
  return deadBytes >= Math.max(diskBytes / 2, MIN_RECLAIM_BYTES)
}

/**
 * A segment is copied forward only while the log holds at least as many dead bytes as it has live
 * ones: with every block pinned, no segment is rewritten to free a few bytes.
 */
export function worthCompacting(liveInSegment: number, deadBytes: number): boolean {
  return deadBytes > 0 && liveInSegment <= deadBytes
}

/**
 * Frees disk space once blocks are gone, oldest segment first: its live blocks are copied to the
 * end of the log (with their last use), then it is deleted, until the log is down to `target`.
 * Always the oldest: a touch or drop record only speaks of blocks written before it, in its own
 * segment or older ones, so once those are gone it says nothing a restart needs. (Reclaiming a
 * newer, emptier segment first lost drop records whose blocks were still on disk: a deleted block
 * came back after a restart.)
 */
export async function reclaim(components: CompactionComponents, target: number): Promise<void> {
  const { log, index, logger, running, lost } = components
  for (const s of log.list()) {
    if (s.bytes === 0 && !s.active && !s.pending) await log.remove(s.id) // left by failed writes
  }
  const keysOf = index.keysBySegment()
  const worth = (id: number) => worthCompacting(index.liveIn(id), deadBytes(log, index))
  while (running() && log.bytes() > target) {
    let oldest = log.oldest()
    if (oldest === undefined || !worth(oldest.id)) break
    if (oldest.pending) {
      // Records on their way to it (puts, touches, drops): let them land, without waiting for
      // writes that keep coming to the segment being written, which is sealed first.
      if (oldest.active) log.seal()
      await log.whenWritten(oldest.id)
      oldest = log.oldest()
      if (oldest !== undefined) keysOf.set(oldest.id, index.keysIn(oldest.id))
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
        logger.warn({ err, key }, 'could not copy a block out of a segment being reclaimed; dropped')
        if (index.get(key) === e) lost(key)
        continue
      }
      if (index.get(key) !== e) continue // dropped while it was read
      const at = await log.append(RecordKind.block, multihashOfKey(key), e.lastUsed, buf)
      if (index.get(key) === e) index.place(key, { ...at, size: e.size, lastUsed: e.lastUsed })
    }
    // A put that landed in it after the keys were gathered: next prune.
    if (index.liveIn(oldest.id) > 0 || log.oldest()?.pending) break
    await log.remove(oldest.id)
  }
}
