import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/** One segment file of the block log and what the log knows of it. */
export interface Segment {
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

/** How the log describes a segment to its users (compaction). */
export interface SegmentInfo {
  id: number
  bytes: number
  /** The segment appends go to. */
  active: boolean
  /** Records appended to it are still being written (its size counts them). */
  pending: boolean
}

/** `<8 hex digits>.seg`: names sort in the order the segments were made. */
export const segmentName = (id: number) => `${id.toString(16).padStart(8, '0')}.seg`
const SEGMENT_NAME = /^[0-9a-f]{8}\.seg$/

/** The id of a segment file's name, or undefined for a file that is not a segment. */
export function segmentId(name: string): number | undefined {
  return SEGMENT_NAME.test(name) ? Number.parseInt(name.slice(0, 8), 16) : undefined
}

export function newSegment(dir: string, id: number): Segment {
  return {
    id,
    path: join(dir, segmentName(id)),
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
}

export function describe(segment: Segment, active: Segment | undefined): SegmentInfo {
  return { id: segment.id, bytes: segment.bytes, active: segment === active, pending: segment.pending > 0 }
}

export async function closeHandle(segment: Segment): Promise<void> {
  const handle = segment.handle
  segment.handle = undefined
  if (handle === undefined) return
  await handle.then((fh) => fh.close()).catch(() => {})
}

/** The idle open handles to close, least recently used first, to bring the open ones down to `max`. */
export function handlesToClose(segments: Iterable<Segment>, active: Segment | undefined, max: number): Segment[] {
  const open = [...segments].filter((s) => s.handle !== undefined)
  if (open.length <= max) return []
  const idle = open
    .filter((s) => s.users === 0 && s !== active && s.pending === 0 && s.flushing === 0)
    .sort((a, b) => a.lastUse - b.lastUse)
  return idle.slice(0, open.length - max)
}
