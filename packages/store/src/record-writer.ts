import type { RetrievalRepository } from './repositories/retrievals.ts'
import type { AbortOptions, Logger, RecordEvent } from './types.ts'

export interface RecordWriterInit {
  /** Events held while the database is away; past this the oldest are dropped (counted). */
  maxBuffered?: number
  batchSize?: number
  flushIntervalMs?: number
}

export interface RecordWriter {
  record(event: RecordEvent): void
  flush(options?: AbortOptions): Promise<void>
  stats(): { buffered: number; written: number; dropped: number; failedFlushes: number }
  start(): void
  stop(): Promise<void>
}

export const DEFAULT_MAX_BUFFERED = 10_000
export const DEFAULT_BATCH_SIZE = 500
export const DEFAULT_FLUSH_INTERVAL_MS = 250
/** Backoff after a failed flush doubles up to this (a database outage is retried this often at worst). */
const MAX_BACKOFF_MS = 5_000
const STOP_FLUSH_TIMEOUT_MS = 3_000

/**
 * Writes retrieval records in batches, off the hot path: `record()` only appends to a buffer.
 * When the database is down the buffer holds up to `maxBuffered` events and the oldest are
 * dropped past that (the recent ones are what an operator asks `explain` about), counted and
 * logged; writing resumes by itself when the database is back.
 */
export function createRecordWriter(
  components: { store: { retrievals: Pick<RetrievalRepository, 'write'> }; logger?: Logger },
  init: RecordWriterInit = {}
): RecordWriter {
  const maxBuffered = init.maxBuffered ?? DEFAULT_MAX_BUFFERED
  const batchSize = init.batchSize ?? DEFAULT_BATCH_SIZE
  const interval = init.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS
  const { logger } = components
  let buffer: RecordEvent[] = []
  let written = 0
  let dropped = 0
  let failedFlushes = 0
  let backoff = 0
  let timer: NodeJS.Timeout | undefined
  let flushing: Promise<void> | undefined
  let running = false
  let lastDropLog = 0

  const schedule = (ms: number) => {
    if (!running || timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void flushOnce().finally(() => {
        if (buffer.length > 0) schedule(backoff > 0 ? backoff : interval)
      })
    }, ms)
    timer.unref()
  }

  const flushOnce = async (): Promise<void> => {
    if (flushing) return flushing
    flushing = (async () => {
      while (buffer.length > 0) {
        const batch = buffer.slice(0, batchSize)
        try {
          await components.store.retrievals.write(batch)
        } catch (err) {
          failedFlushes++
          backoff = Math.min(MAX_BACKOFF_MS, backoff === 0 ? interval * 2 : backoff * 2)
          if (failedFlushes === 1 || failedFlushes % 20 === 0) {
            logger?.warn(
              { err: (err as Error).message, buffered: buffer.length, failedFlushes },
              'retrieval records not written; holding them'
            )
          }
          return
        }
        // Drop exactly what was written: new events may have been appended meanwhile.
        buffer = buffer.slice(batch.length)
        written += batch.length
        if (backoff > 0) logger?.info({ written }, 'retrieval records are being written again')
        backoff = 0
      }
    })().finally(() => {
      flushing = undefined
    })
    return flushing
  }

  return {
    record(event) {
      buffer.push(event)
      if (buffer.length > maxBuffered) {
        const excess = buffer.length - maxBuffered
        buffer.splice(0, excess)
        dropped += excess
        const now = Date.now()
        if (now - lastDropLog > 10_000) {
          lastDropLog = now
          logger?.warn({ dropped, maxBuffered }, 'retrieval record buffer full; dropping the oldest records')
        }
      }
      schedule(backoff > 0 ? backoff : interval)
    },
    async flush() {
      await flushOnce()
    },
    stats: () => ({ buffered: buffer.length, written, dropped, failedFlushes }),
    start() {
      running = true
      if (buffer.length > 0) schedule(0)
    },
    async stop() {
      running = false
      if (timer) clearTimeout(timer)
      timer = undefined
      await Promise.race([flushOnce(), new Promise((r) => setTimeout(r, STOP_FLUSH_TIMEOUT_MS).unref())])
      if (buffer.length > 0) logger?.warn({ lost: buffer.length }, 'retrieval records not written at shutdown')
    }
  }
}
