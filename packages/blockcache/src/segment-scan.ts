import { type FileHandle, open } from 'node:fs/promises'
import { decodeHeader, HEADER_BYTES, recordSpan, type ScannedRecord } from './record.ts'

/** Scanning reads at most this much at a time, and seeks past data that does not fit. */
const SCAN_CHUNK_BYTES = 1024 * 1024
/** ... and at least this much: a header and its key, with room for the next few small records. */
const SCAN_WINDOW_BYTES = 4096

export interface Damage {
  segment: number
  /** Where the readable records end; the rest of the segment was cut off. */
  at: number
  lostBytes: number
  reason: string
}

/** The part of a segment file a scan reads: `FileHandle` or a fake in a test. */
export type ScanSource = Pick<FileHandle, 'read' | 'stat'>

/**
 * Reads one segment's records, handing each to `onRecord`; returns where the readable records
 * end. Data is skipped, not read, unless it lies in the chunk already read for the headers: a
 * start reads the headers of a log of 256 KiB blocks, not the blocks.
 */
export async function scanSegment(
  fh: ScanSource,
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
    const header = decodeHeader(await bytesAt(at, HEADER_BYTES))
    if (header === undefined) {
      onDamage(at, size, `no record header at byte ${at}`)
      return at
    }
    const { kind, keyLength, dataLength, time } = header
    const span = recordSpan(keyLength, dataLength)
    if (at + span > size) {
      onDamage(at, size, `a record of ${span} bytes at byte ${at} is cut off`)
      return at
    }
    const key = Buffer.from(await bytesAt(at + HEADER_BYTES, keyLength)) // a copy: the chunk is reused
    onRecord({
      kind,
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

/**
 * Scans a segment file (scanSegment) and cuts a damaged tail off; returns its size after the cut.
 * Read-only (beside the process that writes it), nothing is cut and no damage reported: the writer
 * may be in the middle of a record at the end; and a file it removed since it was listed is simply
 * gone (undefined).
 */
export async function scanSegmentFile(
  path: string,
  id: number,
  options: { readOnly: boolean; onRecord: (r: ScannedRecord) => void; onDamage: (d: Damage) => void }
): Promise<number | undefined> {
  const { readOnly, onRecord, onDamage } = options
  let fh: FileHandle
  try {
    fh = await open(path, readOnly ? 'r' : 'r+')
  } catch (err) {
    if (readOnly && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const bytes = await scanSegment(fh, id, onRecord, (at, size, reason) => {
      if (!readOnly) onDamage({ segment: id, at, lostBytes: size - at, reason })
    })
    const { size } = await fh.stat()
    if (size > bytes && !readOnly) await fh.truncate(bytes)
    return bytes
  } finally {
    await fh.close()
  }
}
