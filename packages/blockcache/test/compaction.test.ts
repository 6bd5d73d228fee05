import assert from 'node:assert/strict'
import { test } from 'node:test'
import { multihashKey, silentLogger } from '@autoretrieve/interface'
import { BlockIndex } from '../src/block-index.ts'
import {
  type CompactableLog,
  type CompactionComponents,
  deadBytes,
  needsPrune,
  reclaim,
  worthCompacting
} from '../src/compaction.ts'
import { MIN_RECLAIM_BYTES } from '../src/constants.ts'
import { BlockLogError } from '../src/errors.ts'
import { type Appended, type Location, RecordKind } from '../src/record.ts'

/**
 * Compaction planned and run against a log in memory: segments of records with the block log's
 * sizes (a 20-byte header, the key, the data), appends written at once.
 */
class MemoryLog implements CompactableLog {
  readonly segments = new Map<number, { bytes: number; data: Map<number, Uint8Array> }>()
  readonly removed: number[] = []
  readonly appended: Array<{ kind: RecordKind; segment: number; time: number }> = []
  /** `segment:offset` of blocks whose read fails. */
  readonly unreadable = new Set<string>()
  private activeId: number | undefined
  private nextId = 1
  private readonly segmentBytes: number

  constructor(segmentBytes: number) {
    this.segmentBytes = segmentBytes
  }

  async append(kind: RecordKind, key: Uint8Array, time: number, data?: Uint8Array): Promise<Appended> {
    const span = 20 + key.byteLength + (data?.byteLength ?? 0)
    let active = this.activeId === undefined ? undefined : this.segments.get(this.activeId)
    if (active === undefined || active.bytes + span > this.segmentBytes) {
      this.activeId = this.nextId++
      active = { bytes: 0, data: new Map() }
      this.segments.set(this.activeId, active)
    }
    const offset = active.bytes + 20 + key.byteLength
    if (data) active.data.set(offset, data)
    active.bytes += span
    this.appended.push({ kind, segment: this.activeId as number, time })
    return { segment: this.activeId as number, offset, span }
  }

  async read(location: Location, size: number): Promise<Buffer> {
    const data = this.segments.get(location.segment)?.data.get(location.offset)
    if (data === undefined || this.unreadable.has(`${location.segment}:${location.offset}`)) {
      throw new BlockLogError(`nothing at ${location.segment}:${location.offset}`, 'ERR_SEGMENT_GONE')
    }
    return Buffer.from(data.subarray(0, size))
  }

  list() {
    return [...this.segments].map(([id, s]) => ({ id, bytes: s.bytes, active: id === this.activeId, pending: false }))
  }

  oldest() {
    return this.list()[0]
  }

  bytes(): number {
    let n = 0
    for (const s of this.segments.values()) n += s.bytes
    return n
  }

  pendingBytes(): number {
    return 0
  }

  seal(): void {
    this.activeId = undefined
  }

  async whenWritten(): Promise<void> {}

  async remove(id: number): Promise<void> {
    assert.notEqual(id, this.activeId, 'the segment being written is never removed')
    this.segments.delete(id)
    this.removed.push(id)
  }
}

const key = (n: number) => multihashKey(Uint8Array.of(0x12, 2, n >> 8, n & 0xff)) // 4-byte keys: 124-byte records
const block = (n: number) => new Uint8Array(100).fill(n)

/** A log of `count` blocks of 100 bytes, `perSegment` a segment (124 bytes a record), all indexed. */
async function filled(count: number, perSegment: number) {
  const log = new MemoryLog(perSegment * 124)
  const index = new BlockIndex()
  for (let n = 0; n < count; n++) {
    const at = await log.append(RecordKind.block, Uint8Array.of(0x12, 2, n >> 8, n & 0xff), n, block(n))
    index.place(key(n), { ...at, size: 100, lastUsed: n })
  }
  log.appended.length = 0
  const lost: string[] = []
  const components: CompactionComponents = {
    log,
    index,
    logger: silentLogger,
    running: () => true,
    lost: (k) => {
      lost.push(k)
      index.remove(k)
    }
  }
  return { log, index, lost, components }
}

test('a prune is due over the threshold, or when half the log and at least MIN_RECLAIM_BYTES is dead', () => {
  const mib = 1024 * 1024
  assert.equal(needsPrune({ diskBytes: 11 * mib, deadBytes: 0, thresholdBytes: 10 * mib }), true)
  assert.equal(needsPrune({ diskBytes: 9 * mib, deadBytes: 1 * mib, thresholdBytes: 10 * mib }), false)
  assert.equal(
    needsPrune({ diskBytes: 100 * mib, deadBytes: 50 * mib, thresholdBytes: 0 }),
    true,
    'no threshold: dead space'
  )
  assert.equal(needsPrune({ diskBytes: 100 * mib, deadBytes: 49 * mib, thresholdBytes: 0 }), false)
  assert.equal(
    needsPrune({ diskBytes: 2 * MIN_RECLAIM_BYTES - 2, deadBytes: MIN_RECLAIM_BYTES - 1, thresholdBytes: 0 }),
    false,
    'half dead, but too little to be worth a copy'
  )
})

test('a segment is worth copying forward only while the log has at least as many dead bytes as it has live ones', () => {
  assert.equal(worthCompacting(0, 0), false, 'nothing dead: nothing to gain')
  assert.equal(worthCompacting(0, 1), true)
  assert.equal(worthCompacting(500, 500), true)
  assert.equal(worthCompacting(501, 500), false)
})

test('reclaim copies the oldest segment’s live blocks to the end of the log with their last use, then deletes it', async () => {
  const { log, index, components } = await filled(8, 4) // segments 1 (blocks 0-3) and 2 (4-7)
  for (const n of [0, 1, 2]) index.remove(key(n)) // segment 1 is mostly dead
  assert.equal(deadBytes(log, index), 3 * 124)
  await reclaim(components, index.liveSpan)
  assert.deepEqual(
    log.list().map((s) => s.id),
    [2, 3],
    'segment 1 is gone; block 3 was copied to a new one'
  )
  assert.deepEqual(log.appended, [{ kind: RecordKind.block, segment: 3, time: 3 }], 'one copy, with its last use')
  const moved = index.get(key(3))
  assert.equal(moved?.segment, 3)
  assert.equal(moved?.lastUsed, 3)
  assert.deepEqual(new Uint8Array(await log.read(moved as Location, 100)), block(3))
  assert.equal(deadBytes(log, index), 0)
  assert.equal(index.size, 5)
})

test('reclaim goes oldest first: a newer segment that is all dead goes only after the older ones are copied forward', async () => {
  const { log, index, components } = await filled(12, 4) // segments 1, 2, 3
  for (const n of [8, 9, 10, 11]) index.remove(key(n)) // segment 3, the newest, is all dead: 496 bytes
  await reclaim(components, 0)
  // A drop record in segment 3 may speak of a block in 1 or 2: it may go only after them.
  assert.deepEqual(log.removed, [1, 2, 3])
  for (let n = 0; n < 8; n++)
    assert.deepEqual(new Uint8Array(await log.read(index.get(key(n)) as Location, 100)), block(n))
  assert.equal(deadBytes(log, index), 0)
})

test('reclaim stops at the oldest segment when it has more live bytes than the log has dead ones', async () => {
  const { log, index, components } = await filled(12, 4)
  for (const n of [8, 9, 10]) index.remove(key(n)) // 372 dead bytes; segment 1 has 496 live
  await reclaim(components, 0)
  assert.deepEqual(log.removed, [])
  assert.deepEqual(log.appended, [], 'nothing copied')
})

test('reclaim stops at the target, removes empty segments first, and does nothing once the cache stops', async () => {
  const { log, index, components } = await filled(12, 4)
  for (let n = 0; n < 12; n++) index.remove(key(n)) // all dead
  log.segments.set(9, { bytes: 0, data: new Map() }) // left by failed writes
  log.seal()
  await reclaim(components, 4 * 124) // one segment's worth may stay
  assert.deepEqual(
    log.list().map((s) => s.id),
    [3],
    'segments 1 and 2 removed, and the empty one'
  )
  const stopped = await filled(8, 4)
  stopped.index.remove(key(0))
  stopped.log.seal()
  await reclaim({ ...stopped.components, running: () => false }, 0)
  assert.deepEqual(
    stopped.log.list().map((s) => s.id),
    [1, 2]
  )
})

test('a block that cannot be read while its segment is reclaimed is dropped, and the segment still goes', async () => {
  const { log, index, lost, components } = await filled(8, 4)
  for (const n of [0, 1]) index.remove(key(n))
  const at = index.get(key(2)) as Location
  log.unreadable.add(`${at.segment}:${at.offset}`)
  await reclaim(components, 0)
  assert.deepEqual(lost, [key(2)])
  assert.equal(index.has(key(3)), true)
  assert.equal(
    log.list().some((s) => s.id === 1),
    false
  )
})
