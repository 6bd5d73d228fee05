import type { FileHandle } from 'node:fs/promises'
import { BlockLogError } from './errors.ts'
import { type Segment, segmentName } from './segment.ts'

/** One writev carries at most this many records or bytes (IOV_MAX is 1024 on Linux). */
const MAX_BATCH_RECORDS = 128
const MAX_BATCH_BYTES = 32 * 1024 * 1024

/** A record appended to the log and waiting for its writev. */
export interface PendingWrite {
  segment: Segment
  /** Where in the segment the record begins. */
  at: number
  buffers: Uint8Array[]
  bytes: number
  resolve(): void
  reject(err: Error): void
}

/**
 * How many records at the head of the queue go in one writev: contiguous records of one segment,
 * up to the bounds. Always at least one.
 */
export function batchLength(queue: readonly Pick<PendingWrite, 'segment' | 'at' | 'bytes'>[]): number {
  const first = queue[0]
  let end = first.at + first.bytes
  let count = 1
  let bytes = first.bytes
  while (count < queue.length && count < MAX_BATCH_RECORDS && bytes < MAX_BATCH_BYTES) {
    const next = queue[count]
    if (next.segment !== first.segment || next.at !== end) break
    end += next.bytes
    bytes += next.bytes
    count++
  }
  return count
}

export interface WriteQueueComponents {
  /** The segment's file handle, counted as in use until `release`. */
  use(segment: Segment): Promise<FileHandle>
  release(segment: Segment): void
  /** A failed batch is undone: the segment ends at `at` again (its size and the log's totals). */
  cut(segment: Segment, at: number): void
  /** The segment could not be cut back after a failed write: nothing more may go to it. */
  failed(segment: Segment): void
}

/**
 * The log's writer: records are written in the order they were appended, contiguous records of
 * one segment in one writev. A write that fails takes the records queued behind it for the same
 * segment with it, and the segment is cut back to where the failed batch began.
 */
export class WriteQueue {
  private readonly components: WriteQueueComponents
  private queue: PendingWrite[] = []
  private flushing: Promise<void> | undefined

  constructor(components: WriteQueueComponents) {
    this.components = components
  }

  push(write: PendingWrite): void {
    this.queue.push(write)
    this.kick()
  }

  /** Resolves once every record queued, and every one queued meanwhile, is written or failed. */
  async drained(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  private kick(): void {
    if (this.flushing !== undefined) return
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined
      if (this.queue.length > 0) this.kick()
    })
  }

  private async flush(): Promise<void> {
    const { use, release } = this.components
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, batchLength(this.queue))
      const first = batch[0]
      const segment = first.segment
      const bytes = batch.reduce((n, p) => n + p.bytes, 0)
      try {
        if (segment.failed)
          throw new BlockLogError(`an earlier write to ${segmentName(segment.id)} failed`, 'ERR_WRITE')
        const fh = await use(segment)
        segment.flushing++
        try {
          const { bytesWritten } = await fh.writev(
            batch.flatMap((p) => p.buffers),
            first.at
          )
          if (bytesWritten !== bytes) {
            throw new BlockLogError(
              `short write to ${segmentName(segment.id)}: ${bytesWritten} of ${bytes} bytes (disk full?)`,
              'ERR_WRITE'
            )
          }
        } finally {
          segment.flushing--
          release(segment)
        }
        for (const p of batch) p.resolve()
      } catch (err) {
        await this.fail(batch, err)
      }
    }
  }

  /**
   * Nothing from this batch on counts: the records queued behind it for the same segment fail too
   * (they would sit past a hole), and the segment is cut back to where the batch began, so the next
   * record goes there. If it cannot be cut, no more records go to it.
   */
  private async fail(batch: PendingWrite[], err: unknown): Promise<void> {
    const error = err instanceof Error ? err : new Error(String(err))
    const { segment, at } = batch[0]
    const behind = this.queue.filter((p) => p.segment === segment)
    this.queue = this.queue.filter((p) => p.segment !== segment)
    for (const p of [...batch, ...behind]) p.reject(error)
    this.components.cut(segment, Math.min(segment.bytes, at))
    if (segment.failed) return
    try {
      const fh = await this.components.use(segment)
      try {
        await fh.truncate(at)
      } finally {
        this.components.release(segment)
      }
    } catch {
      this.components.failed(segment)
    }
  }
}
