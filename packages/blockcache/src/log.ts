import { type FileHandle, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { BlockLogError } from './errors.ts'

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
 */

const RECORD_MAGIC = 0x31425241 // "ARB1" read little-endian
const HEADER_BYTES = 20
const MAX_KEY_BYTES = 1024

export const RecordKind = { block: 1, touch: 2, drop: 3 } as const
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind]

/** Where a block's bytes are: a segment and the offset of the data (past header and key). */
export interface Location {
  segment: number
  offset: number
}

/** Where an appended record's data went, and the record's whole size on disk. */
export interface Appended extends Location {
  span: number
}

export interface ScannedRecord extends Location {
  kind: RecordKind
  key: Uint8Array
  time: number
  /** Data length (0 for touch and drop records). */
  size: number
  /** The whole record on disk: header, key and data. */
  span: number
}

export interface Damage {
  segment: number
  /** Where the readable records end; the rest of the segment was cut off. */
  at: number
  lostBytes: number
  reason: string
}

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

/** Logs this process holds the lock of: a lock file with our own pid and not in here is a leftover. */
const lockedHere = new Set<string>()

/** Whether a process with this pid runs (one we may not signal, EPERM, runs too). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

interface Segment {
  id: number
  path: string
  /** Bytes on disk, including records queued to be written. */
  bytes: number
  handle?: Promise<FileHandle>
  /** Reads and writes using the handle now: it is closed only when this is 0. */
  users: number
  lastUse: number
  removed: boolean
  /** A write failed: what follows it on disk is unknown, so nothing more is written here. */
  failed: boolean
  /** Records appended and not yet written (or failed), and their bytes. */
  pending: number
  pendingBytes: number
  /** Called once `pending` is back to 0. */
  drained: Array<() => void>
  /** Batches being written to it now. */
  flushing: number
}

interface PendingWrite {
  segment: Segment
  at: number
  buffers: Uint8Array[]
  bytes: number
  resolve(): void
  reject(err: Error): void
}

/** One writev carries at most this many records or bytes (IOV_MAX is 1024 on Linux). */
const MAX_BATCH_RECORDS = 128
const MAX_BATCH_BYTES = 32 * 1024 * 1024
/** Scanning reads at most this much at a time, and seeks past data that does not fit. */
const SCAN_CHUNK_BYTES = 1024 * 1024
/** ... and at least this much: a header and its key, with room for the next few small records. */
const SCAN_WINDOW_BYTES = 4096
const DEFAULT_MAX_OPEN_HANDLES = 32

const segmentName = (id: number) => `${id.toString(16).padStart(8, '0')}.seg`
const SEGMENT_NAME = /^[0-9a-f]{8}\.seg$/

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
  private queue: PendingWrite[] = []
  private flushing: Promise<void> | undefined
  private closed = false

  constructor(init: BlockLogInit) {
    this.dir = init.dir
    this.segmentBytes = init.segmentBytes
    this.maxOpenHandles = init.maxOpenHandles ?? DEFAULT_MAX_OPEN_HANDLES
    this.onSegmentGone = init.onSegmentGone ?? (() => {})
    this.readOnly = init.readOnly ?? false
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
    if (!this.readOnly) await this.lock()
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort()
    let last: Segment | undefined
    for (const name of names) {
      const id = Number.parseInt(name.slice(0, 8), 16)
      this.nextId = Math.max(this.nextId, id + 1)
      const segment = this.segment(id)
      let fh: FileHandle
      try {
        fh = await open(segment.path, this.readOnly ? 'r' : 'r+')
      } catch (err) {
        // Read-only beside a writer: a segment it removed since the listing is simply gone.
        if (this.readOnly && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.segments.delete(id)
          continue
        }
        throw err
      }
      try {
        // Read-only, the writer may be in the middle of a record at the end: stop there, quietly.
        segment.bytes = await scanSegment(fh, id, onRecord, (at, size, reason) => {
          if (!this.readOnly) onDamage({ segment: id, at, lostBytes: size - at, reason })
        })
        const { size } = await fh.stat()
        if (size > segment.bytes && !this.readOnly) await fh.truncate(segment.bytes)
      } finally {
        await fh.close()
      }
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
    if (key.byteLength === 0 || key.byteLength > MAX_KEY_BYTES) {
      return Promise.reject(new BlockLogError(`a key of ${key.byteLength} bytes cannot be stored`, 'ERR_BAD_KEY'))
    }
    const size = data?.byteLength ?? 0
    const span = HEADER_BYTES + key.byteLength + size
    let segment = this.active
    if (segment === undefined || segment.failed || (segment.bytes > 0 && segment.bytes + span > this.segmentBytes)) {
      segment = this.roll()
    }
    const head = Buffer.allocUnsafe(HEADER_BYTES + key.byteLength)
    head.writeUInt32LE(RECORD_MAGIC, 0)
    head.writeUInt8(kind, 4)
    head.writeUInt8(0, 5)
    head.writeUInt16LE(key.byteLength, 6)
    head.writeUInt32LE(size, 8)
    head.writeDoubleLE(time, 12)
    head.set(key, HEADER_BYTES)
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
      this.queue.push({
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
      this.kick()
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
  list(): Array<{ id: number; bytes: number; active: boolean; pending: boolean }> {
    return [...this.segments.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({ id: s.id, bytes: s.bytes, active: s === this.active, pending: s.pending > 0 }))
  }

  /**
   * The oldest segment (the map holds segments in the order they were made: listed in order at
   * open, numbered upwards by roll), as `list()` describes it.
   */
  oldest(): { id: number; bytes: number; active: boolean; pending: boolean } | undefined {
    const s = this.segments.values().next().value
    return s === undefined ? undefined : { id: s.id, bytes: s.bytes, active: s === this.active, pending: s.pending > 0 }
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
    if (segment.users === 0) await this.closeHandle(segment)
  }

  /** Waits for queued writes, then closes every handle (one a read is using, once the read is done). */
  async close(): Promise<void> {
    this.closed = true
    while (this.flushing) await this.flushing
    this.active = undefined
    await Promise.all([...this.segments.values()].filter((s) => s.users === 0).map((s) => this.closeHandle(s)))
    if (this.locked) {
      this.locked = false
      lockedHere.delete(this.dir)
      await unlink(`${this.dir}.lock`).catch(() => {})
    }
  }

  /**
   * One writer per log: two processes appending at their own idea of the end overwrite each other's
   * records. The lock is a file holding the writer's pid; one left by a process that is gone is
   * taken over.
   */
  private async lock(): Promise<void> {
    const path = `${this.dir}.lock` // beside the segments, not among them
    if (lockedHere.has(this.dir)) {
      throw new BlockLogError(`the block cache at ${this.dir} is already open in this process`, 'ERR_LOCKED')
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o600)
        await fh.writeFile(`${process.pid}\n`)
        await fh.close()
        this.locked = true
        lockedHere.add(this.dir)
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
      // Our own pid but not held here: left by an earlier process that had it (pid 1 in a container).
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new BlockLogError(
          `the block cache at ${this.dir} is in use by another autoretrieve process (pid ${pid}); ` +
            `if no autoretrieve runs with that pid, remove ${path}`,
          'ERR_LOCKED'
        )
      }
      await unlink(path).catch(() => {}) // left by a process that is gone (or by this one, reopened)
    }
    throw new BlockLogError(`could not lock the block cache at ${this.dir}`, 'ERR_LOCKED')
  }

  /** Takes a segment out of the map and the totals. */
  private forgetSegment(segment: Segment): void {
    this.segments.delete(segment.id)
    this.totalBytes -= segment.bytes
    this.totalPending -= segment.pendingBytes
  }

  private segment(id: number): Segment {
    const segment: Segment = {
      id,
      path: join(this.dir, segmentName(id)),
      bytes: 0,
      users: 0,
      lastUse: 0,
      removed: false,
      failed: false,
      pending: 0,
      pendingBytes: 0,
      drained: [],
      flushing: 0
    }
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
    if (stale && segment.users === 0) void this.closeHandle(segment)
  }

  /** Closes the least recently used idle read handles past the bound. */
  private trimHandles(): void {
    const open = [...this.segments.values()].filter((s) => s.handle !== undefined)
    if (open.length <= this.maxOpenHandles) return
    const idle = open
      .filter((s) => s.users === 0 && s !== this.active && s.pending === 0 && s.flushing === 0)
      .sort((a, b) => a.lastUse - b.lastUse)
    for (const s of idle.slice(0, open.length - this.maxOpenHandles)) void this.closeHandle(s)
  }

  private async closeHandle(segment: Segment): Promise<void> {
    const handle = segment.handle
    segment.handle = undefined
    if (handle === undefined) return
    await handle.then((fh) => fh.close()).catch(() => {})
  }

  private kick(): void {
    if (this.flushing !== undefined) return
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined
      if (this.queue.length > 0) this.kick()
    })
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      // Contiguous records of one segment go in one writev.
      const first = this.queue[0]
      let end = first.at + first.bytes
      let count = 1
      let bytes = first.bytes
      while (count < this.queue.length && count < MAX_BATCH_RECORDS && bytes < MAX_BATCH_BYTES) {
        const next = this.queue[count]
        if (next.segment !== first.segment || next.at !== end) break
        end += next.bytes
        bytes += next.bytes
        count++
      }
      const batch = this.queue.splice(0, count)
      const segment = first.segment
      try {
        if (segment.failed)
          throw new BlockLogError(`an earlier write to ${segmentName(segment.id)} failed`, 'ERR_WRITE')
        const fh = await this.use(segment)
        segment.flushing++
        try {
          const buffers = batch.flatMap((p) => p.buffers)
          const { bytesWritten } = await fh.writev(buffers, first.at)
          if (bytesWritten !== bytes) {
            throw new BlockLogError(
              `short write to ${segmentName(segment.id)}: ${bytesWritten} of ${bytes} bytes (disk full?)`,
              'ERR_WRITE'
            )
          }
        } finally {
          segment.flushing--
          this.release(segment)
        }
        for (const p of batch) p.resolve()
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err))
        // Nothing from this batch on counts: the records queued behind it for the same segment
        // fail too (they would sit past a hole), and the segment is cut back to where the batch
        // began, so the next record goes there. If it cannot be cut, no more records go to it.
        const behind = this.queue.filter((p) => p.segment === segment)
        this.queue = this.queue.filter((p) => p.segment !== segment)
        for (const p of [...batch, ...behind]) p.reject(error)
        const cut = Math.min(segment.bytes, first.at)
        if (this.segments.get(segment.id) === segment) this.totalBytes -= segment.bytes - cut
        segment.bytes = cut
        if (!segment.failed) {
          try {
            const fh = await this.use(segment)
            try {
              await fh.truncate(first.at)
            } finally {
              this.release(segment)
            }
          } catch {
            segment.failed = true
            if (this.active === segment) this.active = undefined
          }
        }
      }
    }
  }
}

/**
 * Reads one segment's records, handing each to `onRecord`; returns where the readable records
 * end. Data is skipped, not read, unless it lies in the chunk already read for the headers.
 */
async function scanSegment(
  fh: FileHandle,
  id: number,
  onRecord: (r: ScannedRecord) => void,
  onDamage: (at: number, size: number, reason: string) => void
): Promise<number> {
  const { size } = await fh.stat()
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES)
  let chunkStart = 0
  let chunkLength = 0
  // How much to read at a header not in the chunk: small while records are large (their data is
  // skipped, not read), doubling up to SCAN_CHUNK_BYTES while they fit in what was read.
  let window = SCAN_WINDOW_BYTES
  /** `length` bytes at `at` (at most SCAN_CHUNK_BYTES), reading a new chunk when they are not in this one. */
  const bytesAt = async (at: number, length: number): Promise<Buffer> => {
    if (at < chunkStart || at + length > chunkStart + chunkLength) {
      window = at < chunkStart + chunkLength + window ? Math.min(SCAN_CHUNK_BYTES, window * 2) : SCAN_WINDOW_BYTES
      chunkStart = at
      chunkLength = 0
      const want = Math.min(Math.max(window, length), size - at)
      while (chunkLength < want) {
        const { bytesRead } = await fh.read(chunk, chunkLength, want - chunkLength, at + chunkLength)
        if (bytesRead === 0) break
        chunkLength += bytesRead
      }
    }
    return chunk.subarray(at - chunkStart, at - chunkStart + length)
  }
  let at = 0
  while (at < size) {
    if (size - at < HEADER_BYTES) {
      onDamage(at, size, 'a partial record header at the end')
      return at
    }
    const head = await bytesAt(at, HEADER_BYTES)
    const magic = head.readUInt32LE(0)
    const kind = head.readUInt8(4)
    const keyLength = head.readUInt16LE(6)
    const dataLength = head.readUInt32LE(8)
    const time = head.readDoubleLE(12)
    if (
      magic !== RECORD_MAGIC ||
      (kind !== 1 && kind !== 2 && kind !== 3) ||
      keyLength === 0 ||
      keyLength > MAX_KEY_BYTES
    ) {
      onDamage(at, size, `no record header at byte ${at}`)
      return at
    }
    const span = HEADER_BYTES + keyLength + dataLength
    if (at + span > size) {
      onDamage(at, size, `a record of ${span} bytes at byte ${at} is cut off`)
      return at
    }
    const key = Buffer.from(await bytesAt(at + HEADER_BYTES, keyLength)) // a copy: the chunk is reused
    onRecord({
      kind: kind as RecordKind,
      key: new Uint8Array(key.buffer, key.byteOffset, key.byteLength),
      time,
      size: dataLength,
      span,
      segment: id,
      offset: at + HEADER_BYTES + keyLength
    })
    at += span
  }
  return at
}
