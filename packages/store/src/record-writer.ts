import { setTimeout as sleep } from 'node:timers/promises'
import type { AbortOptions, Logger } from '@autoretrieve/interface'
import { BoundedQueue } from './bounded-queue.ts'
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_STOP_FLUSH_TIMEOUT_MS
} from './constants.ts'
import { throwIfAborted } from './errors.ts'
import type { RetrievalRepository } from './repositories/retrievals.ts'
import type { RecordEvent } from './types.ts'

export interface RecordWriterInit {
  /** Events held while the database is away; past this the oldest are dropped and counted. @default 10000 */
  maxBuffered?: number
  /** Events per transaction. @default 500 */
  batchSize?: number
  /** How long an event may wait before its batch is written. @default 250 */
  flushIntervalMs?: number
  /** Longest wait between retries while the database is down. @default 5000 */
  maxBackoffMs?: number
  /** How long `stop()` tries to write what is left. @default 3000 */
  stopTimeoutMs?: number
  /** The instance-name stamped on every retrieval and refusal written. @default '' */
  instance?: string
}

export interface RecordWriterStats {
  buffered: number
  written: number
  dropped: number
  failedFlushes: number
}

export interface RecordWriter {
  /** Queues an event; never blocks, never throws. */
  record(event: RecordEvent): void
  /** Writes what is buffered now; rejects (events kept, retried later) if the database fails. */
  flush(options?: AbortOptions): Promise<void>
  stats(): RecordWriterStats
  start(): void
  /** Stops the timer and writes what is left, for at most `stopTimeoutMs`. */
  stop(): Promise<void>
}

/**
 * Writes retrieval records in batches, off the hot path: `record()` only appends to a bounded
 * queue. When the database is down the queue holds up to `maxBuffered` events, retries with
 * doubling backoff, and writes them when the database is back.
 *
 * Past the bound the OLDEST events are dropped (counted, logged): the records an operator asks
 * about ("why was this CID not served") are the recent ones, and the write side is idempotent
 * and order-tolerant, so a finish whose start was dropped still makes a (partial) row. Dropping
 * the newest instead would freeze the history at the start of the outage.
 */
export function createRecordWriter(
  /** Any `Store` fits; only `retrievals.write` is used (so a test can pass a failing one). */
  components: { store: { retrievals: Pick<RetrievalRepository, 'write'> }; logger?: Logger },
  init: RecordWriterInit = {}
): RecordWriter {
  const maxBuffered = positive(init.maxBuffered, DEFAULT_MAX_BUFFERED, 'maxBuffered')
  const batchSize = positive(init.batchSize, DEFAULT_BATCH_SIZE, 'batchSize')
  const interval = positive(init.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 'flushIntervalMs')
  const maxBackoff = positive(init.maxBackoffMs, DEFAULT_MAX_BACKOFF_MS, 'maxBackoffMs')
  const stopTimeout = positive(init.stopTimeoutMs, DEFAULT_STOP_FLUSH_TIMEOUT_MS, 'stopTimeoutMs')
  const { logger } = components
  const queue = new BoundedQueue<RecordEvent>(maxBuffered)
  let written = 0
  let dropped = 0
  let failedFlushes = 0
  let backoff = 0
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<Error | undefined> | undefined
  let running = false
  let lastDropLog = 0

  const schedule = (ms: number) => {
    if (!running || timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void writeAll().finally(() => {
        if (queue.size > 0) schedule(backoff > 0 ? backoff : interval)
      })
    }, ms)
    timer.unref()
  }

  /** Writes batches until the queue is empty or a write fails (returned, never thrown). One at a time. */
  const writeAll = (): Promise<Error | undefined> => {
    inFlight ??= (async () => {
      while (queue.size > 0) {
        const batch = queue.peek(batchSize)
        try {
          await components.store.retrievals.write(batch.items, { instance: init.instance ?? '' })
        } catch (err) {
          failedFlushes++
          backoff = Math.min(maxBackoff, backoff === 0 ? interval * 2 : backoff * 2)
          if (failedFlushes === 1 || failedFlushes % 20 === 0) {
            logger?.warn(
              { err: (err as Error).message, buffered: queue.size, failedFlushes, retryInMs: backoff },
              'retrieval records not written; holding them'
            )
          }
          return err as Error
        }
        queue.ack(batch.seq, batch.items.length)
        written += batch.items.length
        if (backoff > 0) logger?.info({ written, buffered: queue.size }, 'retrieval records are being written again')
        backoff = 0
      }
      return undefined
    })().finally(() => {
      inFlight = undefined
    })
    return inFlight
  }

  return {
    record(event) {
      try {
        if (queue.push(event) > 0) {
          dropped++
          const now = Date.now()
          if (now - lastDropLog > 10_000) {
            lastDropLog = now
            logger?.warn({ dropped, maxBuffered }, 'retrieval record buffer full; dropping the oldest records')
          }
        }
        schedule(backoff > 0 ? backoff : interval)
      } catch {
        // record() is called from the Bitswap and retrieval hot paths: it must not throw.
      }
    },
    async flush(options = {}) {
      // Bounded: enough rounds for what is buffered now, plus one for a write already under way.
      const rounds = Math.ceil(queue.size / batchSize) + 1
      for (let i = 0; i < rounds && queue.size > 0; i++) {
        throwIfAborted(options.signal)
        const err = await writeAll()
        if (err !== undefined) throw err
      }
    },
    stats: () => ({ buffered: queue.size, written, dropped, failedFlushes }),
    start() {
      running = true
      if (queue.size > 0) schedule(0)
    },
    async stop() {
      running = false
      if (timer) clearTimeout(timer)
      timer = undefined
      const deadline = new AbortController()
      await Promise.race([
        writeAll(),
        sleep(stopTimeout, undefined, { signal: deadline.signal }).catch(() => {}) // aborted below once written
      ])
      deadline.abort()
      if (queue.size > 0) logger?.warn({ lost: queue.size }, 'retrieval records not written at shutdown')
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`record writer ${name} must be a positive number`)
  return value
}
