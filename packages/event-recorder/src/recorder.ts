import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Logger, type RetrievalRecord, silentLogger } from '@autoretrieve/interface'
import { type RecorderEvent, toEvents } from './events.ts'
import type { EventRecorder, EventRecorderInit } from './types.ts'

const DEFAULT_MAX_QUEUED = 10_000
const DEFAULT_MAX_BATCH = 1_000
const DEFAULT_CONCURRENCY = 5
const DEFAULT_TIMEOUT_MS = 5_000
/** Retrievals whose root CID is remembered for their attempts' events; the oldest goes first past this. */
const MAX_RETRIEVALS = 10_000
/** At most one warning about failing posts this often (a recorder that is down fails every post). */
const WARN_EVERY_MS = 60_000

/**
 * The contents of `<data-dir>/eventrecorderauth`, trimmed (the Go node's Basic credential), or
 * undefined when the file is absent or empty.
 */
export async function readEventRecorderAuth(dataDir: string): Promise<string | undefined> {
  try {
    const text = (await readFile(join(dataDir, 'eventrecorderauth'), 'utf8')).trim()
    return text === '' ? undefined : text
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * The event recorder: records in, batches out. `record` only translates and queues (bounded);
 * posters, at most `concurrency` at once, each take what is queued (up to `maxBatch`) and POST it
 * with a `timeoutMs` deadline. A POST that fails, times out or is answered non-2xx loses its
 * events, as lassie's did: they are counted as dropped, never retried, so a recorder that is down
 * costs a bounded queue and a warning a minute, and never slows a retrieval.
 */
export function createEventRecorder(components: { logger?: Logger }, init: EventRecorderInit): EventRecorder {
  const logger = components.logger ?? silentLogger
  const maxQueued = init.maxQueued ?? DEFAULT_MAX_QUEUED
  const maxBatch = init.maxBatch ?? DEFAULT_MAX_BATCH
  const concurrency = init.concurrency ?? DEFAULT_CONCURRENCY
  const timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  if (init.authorization) headers.Authorization = `Basic ${init.authorization}`
  const roots = new Map<string, string>()
  let queue: RecorderEvent[] = []
  let posting = 0
  let sent = 0
  let dropped = 0
  let stopped = false
  let scheduled = false
  let lastWarning = 0
  const stopping = new AbortController()
  const inflight = new Set<Promise<void>>()

  const warn = (err: unknown, events: number) => {
    if (Date.now() - lastWarning < WARN_EVERY_MS) return
    lastWarning = Date.now()
    logger.warn(
      { err, url: init.url, events, dropped },
      'could not post retrieval events to the event recorder; dropped'
    )
  }

  async function post(batch: RecorderEvent[]): Promise<void> {
    try {
      const res = await fetch(init.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ events: batch }),
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal])
      })
      await res.body?.cancel().catch(() => {})
      if (res.status < 200 || res.status > 299) throw new Error(`the event recorder answered HTTP ${res.status}`)
      sent += batch.length
    } catch (err) {
      dropped += batch.length
      if (!stopped) warn(err, batch.length)
    }
  }

  function pump(): void {
    while (!stopped && posting < concurrency && queue.length > 0) {
      const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch)
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch)
      posting++
      const p = post(batch).finally(() => {
        posting--
        inflight.delete(p)
        pump()
      })
      inflight.add(p)
    }
  }

  function enqueue(events: RecorderEvent[]): void {
    for (const event of events) {
      if (queue.length >= maxQueued) dropped++
      else queue.push(event)
    }
    // Posted on the next turn, so the events of one moment share a batch.
    if (!scheduled && posting < concurrency) {
      scheduled = true
      setImmediate(() => {
        scheduled = false
        pump()
      })
    }
  }

  return {
    record(record: RetrievalRecord) {
      if (stopped) return
      try {
        if (record.type === 'retrieval-started') {
          roots.set(record.id, record.rootCid)
          // Kept past the retrieval's end (an attempt it cancelled may be recorded after it), up to a bound.
          if (roots.size > MAX_RETRIEVALS) roots.delete(roots.keys().next().value as string)
        } else if (record.type === 'attempt') {
          const cid = roots.get(record.retrievalId)
          if (cid !== undefined) enqueue(toEvents(record, cid, init.instanceName))
        }
      } catch (err) {
        // Never the retriever's problem.
        logger.debug({ err }, 'could not turn a record into recorder events')
      }
    },
    stats: () => ({ sent, dropped, queued: queue.length }),
    async stop() {
      stopped = true
      stopping.abort()
      await Promise.allSettled([...inflight])
      dropped += queue.length
      queue = []
    }
  }
}
