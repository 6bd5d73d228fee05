import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { BoundedQueue } from '../src/bounded-queue.ts'
import { createRecordWriter, createStore, type RecordEvent } from '../src/index.ts'
import { outage, scratchPostgres, waitFor } from './engines.ts'

function refusal(i: number): RecordEvent {
  return { type: 'refusal', cid: `bafk${i}`, peer: 'p', reason: 'blacklisted_cid', policyVersion: 1, at: new Date(i) }
}

function started(id: string): RecordEvent {
  return {
    type: 'retrieval-started',
    id,
    rootCid: 'bafyx',
    requestedCid: 'bafyx',
    requestedBy: [],
    policyVersion: 0,
    at: new Date()
  }
}

/** A store whose writes fail while `down` is set, as a database outage looks to the writer. */
function flakyStore() {
  const state = { down: true, written: [] as RecordEvent[], calls: 0 }
  return {
    state,
    store: {
      retrievals: {
        write: async (events: RecordEvent[]) => {
          state.calls++
          if (state.down) throw Object.assign(new Error('connection terminated'), { name: 'StoreUnavailableError' })
          state.written.push(...events)
        }
      }
    }
  }
}

test('record() returns at once; records are written in batches to the database', async (t) => {
  const store = await createStore({})
  t.after(() => store.close())
  const writer = createRecordWriter({ store }, { flushIntervalMs: 20, batchSize: 10 })
  writer.start()
  t.after(() => writer.stop())
  const id = randomUUID()
  writer.record(started(id))
  for (let i = 0; i < 25; i++) writer.record(refusal(i))
  assert.equal(writer.stats().written, 0, 'nothing is written on the caller’s turn')
  await waitFor(() => writer.stats().written === 26)
  assert.deepEqual(writer.stats(), { buffered: 0, written: 26, dropped: 0, failedFlushes: 0 })
  assert.equal((await store.retrievals.get(id))?.rootCid, 'bafyx')
  assert.equal((await store.retrievals.explain('bafk7')).refusals.length, 1)
})

test('flush() writes what is buffered now, without waiting for the timer', async (t) => {
  const store = await createStore({})
  t.after(() => store.close())
  const writer = createRecordWriter({ store }, { flushIntervalMs: 60_000, batchSize: 2 })
  const id = randomUUID()
  writer.record(started(id))
  for (let i = 0; i < 4; i++) writer.record(refusal(i))
  await writer.flush()
  assert.equal(writer.stats().written, 5)
  assert.ok(await store.retrievals.get(id))
})

test('an outage holds records up to the bound, drops the oldest (counted), and writes the rest when it ends', async (t) => {
  const { state, store } = flakyStore()
  const writer = createRecordWriter({ store }, { flushIntervalMs: 10, maxBuffered: 100, maxBackoffMs: 40 })
  writer.start()
  t.after(() => writer.stop())
  for (let i = 0; i < 150; i++) writer.record(refusal(i))
  await waitFor(() => writer.stats().failedFlushes >= 2)
  assert.deepEqual(
    { ...writer.stats(), failedFlushes: 0 },
    { buffered: 100, written: 0, dropped: 50, failedFlushes: 0 }
  )
  await assert.rejects(writer.flush(), { name: 'StoreUnavailableError' })
  assert.equal(writer.stats().buffered, 100, 'a failed flush keeps the events')

  state.down = false
  await waitFor(() => writer.stats().buffered === 0)
  assert.equal(state.written.length, 100)
  assert.equal((state.written[0] as { cid: string }).cid, 'bafk50', 'the oldest were dropped, the newest kept')
  assert.equal((state.written[99] as { cid: string }).cid, 'bafk149')
  assert.deepEqual(
    { ...writer.stats(), failedFlushes: 0 },
    { buffered: 0, written: 100, dropped: 50, failedFlushes: 0 }
  )
})

test('stop() gives up after its time bound when the database does not answer', async () => {
  const hanging = { retrievals: { write: () => new Promise<void>(() => {}) } }
  const writer = createRecordWriter({ store: hanging }, { flushIntervalMs: 10, stopTimeoutMs: 100 })
  writer.start()
  writer.record(refusal(1))
  await writer.stop()
  assert.equal(writer.stats().buffered, 1)
  assert.equal(writer.stats().written, 0)
})

test('invalid init is refused at the edge', () => {
  assert.throws(() => createRecordWriter({ store: flakyStore().store }, { maxBuffered: 0 }), RangeError)
})

test('the queue drops the oldest, and acknowledging a batch never removes newer items', () => {
  const q = new BoundedQueue<number>(3)
  for (let i = 0; i < 3; i++) assert.equal(q.push(i), 0)
  const batch = q.peek(2) // 0, 1 in flight
  assert.deepEqual(batch.items, [0, 1])
  assert.equal(q.push(3), 1) // 0 dropped while in flight
  assert.equal(q.push(4), 1) // 1 dropped too
  q.ack(batch.seq, batch.items.length)
  assert.equal(q.size, 3)
  assert.deepEqual(q.peek(10).items, [2, 3, 4])
  const next = q.peek(1)
  q.ack(next.seq, 1)
  assert.deepEqual(q.peek(10).items, [3, 4])
  // Compaction keeps order over many items.
  const big = new BoundedQueue<number>(10)
  for (let i = 0; i < 5000; i++) big.push(i)
  assert.deepEqual(big.peek(10).items, [4990, 4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999])
})

test('on PostgreSQL: records survive a real outage (connections refused and killed) and land afterwards', async (t) => {
  const pg = await scratchPostgres(t)
  if ('skip' in pg) return t.skip(pg.skip)
  const store = await createStore({ databaseUrl: pg.url })
  t.after(() => store.close())
  const writer = createRecordWriter({ store }, { flushIntervalMs: 20, maxBackoffMs: 200 })
  writer.start()
  t.after(() => writer.stop())

  const down = await outage(pg.url)
  let ended = false
  t.after(async () => {
    if (!ended) await down.end()
  })
  const ids = Array.from({ length: 5 }, () => randomUUID())
  for (const id of ids) writer.record(started(id))
  await waitFor(() => writer.stats().failedFlushes >= 2, 20_000)
  assert.equal(writer.stats().written, 0)
  assert.equal(writer.stats().buffered, 5)
  await assert.rejects(store.ping(), { name: 'StoreUnavailableError', code: 'ERR_STORE_UNAVAILABLE' })
  await assert.rejects(store.retrievals.list({}), { name: 'StoreUnavailableError' })

  await down.end()
  ended = true
  await waitFor(() => writer.stats().written === 5, 20_000)
  await store.ping()
  const listed = await store.retrievals.list({ limit: 10 })
  assert.deepEqual(new Set(listed.items.map((r) => r.id)), new Set(ids))
})
