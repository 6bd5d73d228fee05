import type { Appended } from './record.ts'

/** A block's record: where its data is, and its span (header, key, data: what the segment frees when it goes). */
export interface Entry extends Appended {
  size: number
  /** Its last use (a put, a read), in ms of the cache's clock: LRU order and pins go by it. */
  lastUsed: number
}

/**
 * The multihash an index key was made from (keys are `multihashKey` from @autoretrieve/interface,
 * base64 of the multihash): touch, drop and copied records carry the multihash itself.
 */
export function multihashOfKey(key: string): Uint8Array {
  return Buffer.from(key, 'base64')
}

/**
 * The cache's index: each block's current record in the log, by key, with the sums that pruning
 * and compaction decide on kept as they change (bytes of blocks, bytes of their records, and of
 * those per segment). Plain data, no I/O: the cache writes the records, this keeps their account.
 */
export class BlockIndex {
  private readonly entries = new Map<string, Entry>()
  /** Bytes of each segment's records that are still the current record of a block. */
  private readonly live = new Map<number, number>()
  private blockBytes = 0
  private spanBytes = 0

  get(key: string): Entry | undefined {
    return this.entries.get(key)
  }

  has(key: string): boolean {
    return this.entries.has(key)
  }

  /** Blocks indexed. */
  get size(): number {
    return this.entries.size
  }

  /** Bytes of the blocks indexed. */
  get bytes(): number {
    return this.blockBytes
  }

  /** Bytes of the blocks' records on disk (headers and keys too): what the log shrinks to at best. */
  get liveSpan(): number {
    return this.spanBytes
  }

  /** Bytes of a segment's records that are a block's current record. */
  liveIn(segment: number): number {
    return this.live.get(segment) ?? 0
  }

  /** Makes `entry` the block's current record; the one it replaces (a copy left behind) is dead space. */
  place(key: string, entry: Entry): void {
    this.unaccount(this.entries.get(key))
    this.entries.set(key, entry)
    this.addLive(entry.segment, entry.span)
    this.blockBytes += entry.size
    this.spanBytes += entry.span
  }

  /** Takes a block out; its record becomes dead space. Returns what it was. */
  remove(key: string): Entry | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    this.unaccount(entry)
    return entry
  }

  clear(): void {
    this.entries.clear()
    this.live.clear()
    this.blockBytes = 0
    this.spanBytes = 0
  }

  /**
   * A use at `time`. True when it is to be recorded in the log (a touch record): the block was last
   * used `throttleMs` or longer ago. Uses in between move `lastUsed` on without a record.
   */
  use(key: string, time: number, throttleMs: number): boolean {
    const entry = this.entries.get(key)
    if (entry === undefined) return false
    const record = time - entry.lastUsed >= throttleMs
    entry.lastUsed = record ? time : Math.max(entry.lastUsed, time)
    return record
  }

  /** A use read back from a touch record; the latest use wins. */
  usedAt(key: string, time: number): void {
    const entry = this.entries.get(key)
    if (entry !== undefined) entry.lastUsed = Math.max(entry.lastUsed, time)
  }

  /** The keys of the blocks whose current record is in `segment`. */
  keysIn(segment: number): string[] {
    const keys: string[] = []
    for (const [key, e] of this.entries) if (e.segment === segment) keys.push(key)
    return keys
  }

  /** Every segment's keys, gathered in one pass (per segment, that would cost blocks x segments). */
  keysBySegment(): Map<number, string[]> {
    const bySegment = new Map<number, string[]>()
    for (const [key, e] of this.entries) {
      const keys = bySegment.get(e.segment)
      if (keys === undefined) bySegment.set(e.segment, [key])
      else keys.push(key)
    }
    return bySegment
  }

  /**
   * What a prune removes: least recently used first, never a block used at or after `unusedSince`
   * (pinned), until the blocks' records would fit in `downTo` bytes (records, not bytes of blocks:
   * with small blocks the headers count).
   */
  evictionPlan(unusedSince: number, downTo: number): Array<[string, Entry]> {
    const candidates = [...this.entries].filter(([, e]) => e.lastUsed < unusedSince)
    candidates.sort((a, b) => a[1].lastUsed - b[1].lastUsed)
    const plan: Array<[string, Entry]> = []
    let span = this.spanBytes
    for (const candidate of candidates) {
      if (span <= downTo) break
      plan.push(candidate)
      span -= candidate[1].span
    }
    return plan
  }

  private unaccount(entry: Entry | undefined): void {
    if (entry === undefined) return
    this.addLive(entry.segment, -entry.span)
    this.blockBytes -= entry.size
    this.spanBytes -= entry.span
  }

  private addLive(segment: number, bytes: number): void {
    const live = (this.live.get(segment) ?? 0) + bytes
    if (live === 0) this.live.delete(segment)
    else this.live.set(segment, live)
  }
}
