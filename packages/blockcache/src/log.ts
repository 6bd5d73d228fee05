import { type FileHandle, mkdir, open, readdir, unlink } from 'node:fs/promises'
import { BlockLogError } from './errors.ts'
import { lockLog, unlockLog } from './lock.ts'
import {
  type Appended,
  encodeHead,
  isStorableKey,
  type Location,
  type RecordKind,
  recordSpan,
  type ScannedRecord
} from './record.ts'
import {
  closeHandle,
  describe,
  handlesToClose,
  newSegment,
  type Segment,
  type SegmentInfo,
  segmentId,
  segmentName
} from './segment.ts'
import { type Damage, scanSegmentFile } from './segment-scan.ts'
import { WriteQueue } from './write-queue.ts'

/**
 * The block cache's storage: append-only segment files, `<dir>/<8 hex digits>.seg`, each a run of
 * records. A record is a 20-byte header (magic "ARB1", kind, key length, data length, time in ms,
 * little-endian), the key (a multihash) and, for a block, its bytes:
 *
 *   u32 magic | u8 kind | u8 0 | u16 key length | u32 data length | f64 time | key | data
 *
 * Why not a file per block (as blockstore-fs, and this cache until now): creating, writing,
 * closing and renaming one file per 256 KiB block cost ~0.6 ms of CPU each on ext4, mostly in the
 * kernel, on the threadpool; on bench/miss that was 0.3 s of the node's ~1.8 s of CPU per 64 MiB,
 * competing for the two cores with the peer being served. Appending the same blocks to one file,
 * many records per writev, costs a fraction of that (README, Benchmarks).
 *
 * Records are never changed in place. A block is superseded by a later record with the same key
 * (compaction copies live blocks forward), a touch record carries a later use, a drop record
 * forgets a block (delete, a failed verification, pruning). Nothing is fsynced: this is a cache,
 * and a torn tail after a crash is cut off at the next start, while every block read is verified
 * against its multihash before it is served.
 *
 * Here: the segments, appends and reads. The record codec is record.ts, the scan at open
 * segment-scan.ts, the writer (records in the order appended, many to a writev) write-queue.ts,
 * the one-writer lock lock.ts.
 */

/** Read handles kept open by default (segments being written keep theirs regardless). */
const DEFAULT_MAX_OPEN_HANDLES = 32

export interface BlockLogInit {
  dir: string
  /** A segment is closed for writing once it reaches this size. */
  segmentBytes: number
  /** Read handles kept open (segments being written keep theirs regardless). */
  maxOpenHandles?: number
  /** A segment's file was found missing (deleted behind our back): every block in it is gone. */
  onSegmentGone?: (id: number) => void
  /**
   * Open to read only, beside the process that writes the log (check-cid beside a running node):
   * no lock, nothing appended, cut or deleted; a torn tail is where reading stops.
   */
  readOnly?: boolean
}

export class BlockLog {
  private readonly dir: string
  private readonly segmentBytes: number
  private readonly maxOpenHandles: number
  private readonly onSegmentGone: (id: number) => void
  private readonly readOnly: boolean
  private locked = false
  private readonly segments = new Map<number, Segment>()
  private active: Segment | undefined
  private nextId = 1
  /** Sums over the segments of `bytes` and `pendingBytes`, kept as they change (read on every put). */
  private totalBytes = 0
  private totalPending = 0
  private readonly writes: WriteQueue
  private closed = false

  constructor(init: BlockLogInit) {
    this.dir = init.dir
    this.segmentBytes = init.segmentBytes
    this.maxOpenHandles = init.maxOpenHandles ?? DEFAULT_MAX_OPEN_HANDLES
    this.onSegmentGone = init.onSegmentGone ?? (() => {})
    this.readOnly = init.readOnly ?? false
    this.writes = new WriteQueue({
      use: (segment) => this.use(segment),
      release: (segment) => this.release(segment),
      cut: (segment, at) => {
        if (this.segments.get(segment.id) === segment) this.totalBytes -= segment.bytes - at
        segment.bytes = at
      },
      failed: (segment) => {
        segment.failed = true
        if (this.active === segment) this.active = undefined
      }
    })
  }

  /**
   * Reads every segment in order and hands each record to `onRecord`. A segment whose records stop
   * making sense (a torn tail after a crash, or damage) is cut at the last whole record, and
   * `onDamage` says where and why. Empty segments are deleted. Writes then go on at the end of the
   * last segment while it has room, so a restart does not leave a small segment behind.
   */
  async open(onRecord: (r: ScannedRecord) => void, onDamage: (d: Damage) => void): Promise<void> {
    this.closed = false
    this.segments.clear()
    this.active = undefined
    this.nextId = 1
    this.totalBytes = 0
    this.totalPending = 0
    await mkdir(this.dir, { recursive: true })
    if (!this.readOnly) {
      await lockLog(this.dir)
      this.locked = true
    }
    const ids = (await readdir(this.dir))
      .map(segmentId)
      .filter((id) => id !== undefined)
      .sort((a, b) => a - b)
    let last: Segment | undefined
    for (const id of ids) {
      this.nextId = Math.max(this.nextId, id + 1)
      const segment = this.segment(id)
      const bytes = await scanSegmentFile(segment.path, id, { readOnly: this.readOnly, onRecord, onDamage })
      if (bytes === undefined) {
        this.segments.delete(id)
        continue
      }
      segment.bytes = bytes
      this.totalBytes += segment.bytes
      if (this.readOnly) continue
      if (segment.bytes === 0) {
        this.segments.delete(id)
        await unlink(segment.path).catch(() => {})
      } else last = segment
    }
    // Its handle opens with the first use (read-write, as the segment being written).
    if (last !== undefined && last.bytes < this.segmentBytes) this.active = last
  }

  /**
   * Appends a record. Resolves once it is on disk (in the page cache) with where its data is;
   * records are written in the order they were appended, many to one writev.
   */
  append(kind: RecordKind, key: Uint8Array, time: number, data?: Uint8Array): Promise<Appended> {
    if (this.closed) return Promise.reject(new BlockLogError('the block log is closed', 'ERR_LOG_CLOSED'))
    if (this.readOnly) return Promise.reject(new BlockLogError('the block log is open read-only', 'ERR_READ_ONLY'))
    if (!isStorableKey(key)) {
      return Promise.reject(new BlockLogError(`a key of ${key.byteLength} bytes cannot be stored`, 'ERR_BAD_KEY'))
    }
    const size = data?.byteLength ?? 0
    const span = recordSpan(key.byteLength, size)
    let segment = this.active
    if (segment === undefined || segment.failed || (segment.bytes > 0 && segment.bytes + span > this.segmentBytes)) {
      segment = this.roll()
    }
    const head = encodeHead(kind, key, size, time)
    const at = segment.bytes
    segment.bytes += span
    this.totalBytes += span
    const appended = { segment: segment.id, offset: at + head.byteLength, span }
    segment.pending++
    segment.pendingBytes += span
    this.totalPending += span
    const written = segment
    const done = () => {
      written.pending--
      written.pendingBytes -= span
      // A segment found gone meanwhile already left the totals, pending bytes and all.
      if (this.segments.get(written.id) === written) this.totalPending -= span
      if (written.pending === 0) for (const f of written.drained.splice(0)) f()
    }
    return new Promise<Appended>((resolve, reject) => {
      this.writes.push({
        segment,
        at,
        buffers: data === undefined || size === 0 ? [head] : [head, data],
        bytes: span,
        resolve: () => {
          done()
          resolve(appended)
        },
        reject: (err) => {
          done()
          reject(err)
        }
      })
    })
  }

  /** Reads `size` bytes of data at a location. Throws BlockLogError ERR_SEGMENT_GONE if its segment was removed. */
  async read(location: Location, size: number): Promise<Buffer> {
    if (this.closed) throw new BlockLogError('the block log is closed', 'ERR_LOG_CLOSED')
    const segment = this.segments.get(location.segment)
    if (segment === undefined || segment.removed) {
      throw new BlockLogError(`segment ${segmentName(location.segment)} is gone`, 'ERR_SEGMENT_GONE')
    }
    const fh = await this.use(segment)
    try {
      const buf = Buffer.allocUnsafe(size)
      let done = 0
      while (done < size) {
        const { bytesRead } = await fh.read(buf, done, size - done, location.offset + done)
        if (bytesRead === 0) {
          throw new BlockLogError(
            `segment ${segmentName(location.segment)} ends before ${location.offset + size}`,
            'ERR_SHORT_READ'
          )
        }
        done += bytesRead
      }
      return buf
    } finally {
      this.release(segment)
    }
  }

  /**
   * Segments on disk and their sizes, oldest first; `active` is the one appends go to, `pending`
   * says records appended to it are still being written (its size counts them).
   */
  list(): SegmentInfo[] {
    return [...this.segments.values()].sort((a, b) => a.id - b.id).map((s) => describe(s, this.active))
  }

  /**
   * The oldest segment (the map holds segments in the order they were made: listed in order at
   * open, numbered upwards by roll), as `list()` describes it.
   */
  oldest(): SegmentInfo | undefined {
    const s = this.segments.values().next().value
    return s === undefined ? undefined : describe(s, this.active)
  }

  /** Bytes of all segments on disk. */
  bytes(): number {
    return this.totalBytes
  }

  /** Bytes appended and not yet written: counted in `bytes()`, not yet anybody's live or dead bytes. */
  pendingBytes(): number {
    return this.totalPending
  }

  /**
   * Resolves once the records appended to a segment so far are written (or failed). Appends to
   * other segments do not hold it up; seal the segment first if it is the one being written.
   */
  whenWritten(id: number): Promise<void> {
    const segment = this.segments.get(id)
    if (segment === undefined || segment.pending === 0) return Promise.resolve()
    return new Promise((resolve) => segment.drained.push(resolve))
  }

  /** The next record goes to a new segment, so the current one can be compacted. */
  seal(): void {
    this.active = undefined
  }

  /**
   * Deletes a segment that is not being written. Reads already under way finish from the open
   * handle (the file is unlinked, not gone, until it closes); later ones get ERR_SEGMENT_GONE.
   */
  async remove(id: number): Promise<void> {
    if (this.closed) throw new BlockLogError('the block log is closed', 'ERR_LOG_CLOSED')
    if (this.readOnly) throw new BlockLogError('the block log is open read-only', 'ERR_READ_ONLY')
    const segment = this.segments.get(id)
    if (segment === undefined) return
    if (segment === this.active || segment.pending > 0) {
      throw new BlockLogError(`segment ${segmentName(id)} is being written`, 'ERR_SEGMENT_BUSY')
    }
    segment.removed = true
    this.forgetSegment(segment)
    await unlink(segment.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
    if (segment.users === 0) await closeHandle(segment)
  }

  /** Waits for queued writes, then closes every handle (one a read is using, once the read is done). */
  async close(): Promise<void> {
    this.closed = true
    await this.writes.drained()
    this.active = undefined
    await Promise.all([...this.segments.values()].filter((s) => s.users === 0).map(closeHandle))
    if (this.locked) {
      this.locked = false
      await unlockLog(this.dir)
    }
  }

  /** Takes a segment out of the map and the totals. */
  private forgetSegment(segment: Segment): void {
    this.segments.delete(segment.id)
    this.totalBytes -= segment.bytes
    this.totalPending -= segment.pendingBytes
  }

  private segment(id: number): Segment {
    const segment = newSegment(this.dir, id)
    this.segments.set(id, segment)
    return segment
  }

  private roll(): Segment {
    this.trimHandles() // the segment written until now is done with its handle, unless reads use it
    const segment = this.segment(this.nextId++)
    // 'wx': a new file, never one left by a run that numbered segments differently.
    segment.handle = open(segment.path, 'wx+')
    segment.handle.catch(() => {}) // its user sees the error
    this.active = segment
    return segment
  }

  private async use(segment: Segment): Promise<FileHandle> {
    segment.users++
    segment.lastUse = performance.now()
    if (segment.handle === undefined) {
      segment.handle = open(segment.path, segment === this.active ? 'r+' : 'r')
      segment.handle.catch(() => {})
      this.trimHandles()
    }
    try {
      return await segment.handle
    } catch (err) {
      segment.handle = undefined
      this.release(segment)
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        // Deleted behind our back: as gone as a segment we removed.
        const known = this.segments.get(segment.id) === segment
        segment.removed = true
        if (known) this.forgetSegment(segment)
        if (this.active === segment) this.active = undefined
        if (known) this.onSegmentGone(segment.id)
        throw new BlockLogError(`segment ${segmentName(segment.id)} is gone from disk`, 'ERR_SEGMENT_GONE')
      }
      throw err
    }
  }

  private release(segment: Segment): void {
    segment.users--
    // Removed, closed, or from before a reopen (open() made new segment objects): nobody else will close it.
    const stale = segment.removed || this.closed || this.segments.get(segment.id) !== segment
    if (stale && segment.users === 0) void closeHandle(segment)
  }

  /** Closes the least recently used idle read handles past the bound. */
  private trimHandles(): void {
    for (const s of handlesToClose(this.segments.values(), this.active, this.maxOpenHandles)) void closeHandle(s)
  }
}
