import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { createRecordWriter, createStore, type RecordEvent } from '../src/index.ts'
import { scratchPostgres, terminateConnections } from './engines.ts'

function refusal(i: number): RecordEvent {
  return { type: 'refusal', cid: `bafk${i}`, peer: 'p', reason: 'blacklisted_cid', policyVersion: 1, at: new Date() }
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('condition not met in time')
}

test('record() never blocks; records are written in batches', async (t) => {
  const store = await createStore({})
  t.after(() => store.close())
  const writer = createRecordWriter({ store }, { flushIntervalMs: 20, batchSize: 10 })
  writer.start()
  t.after(() => writer.stop())
  const id = randomUUID()
  writer.record({
    type: 'retrieval-started',
    id,
    rootCid: 'bafyx',
    requestedCid: 'bafyx',
    requestedBy: [],
    policyVersion: 0,
    at: new Date()
  })
  for (let i = 0; i < 25; i++) writer.record(refusal(i))
  await waitFor(() => writer.stats().written === 26)
  assert.equal((await store.retrievals.get(id))?.rootCid, 'bafyx')
})

test('a database outage holds records (bounded, counting drops) and they are written when it returns', async (t) => {
  let down = true
  const written: RecordEvent[] = []
  const flaky = {
    retrievals: {
      write: async (events: RecordEvent[]) => {
        if (down) throw new Error('connection terminated')
        written.push(...events)
      }
    }
  }
  const writer = createRecordWriter({ store: flaky }, { flushIntervalMs: 10, maxBuffered: 100 })
  writer.start()
  t.after(() => writer.stop())
  for (let i = 0; i < 150; i++) writer.record(refusal(i))
  await waitFor(() => writer.stats().failedFlushes >= 2)
  assert.equal(writer.stats().buffered, 100)
  assert.equal(writer.stats().dropped, 50)
  down = false
  await waitFor(() => writer.stats().buffered === 0)
  assert.equal(written.length, 100)
  assert.equal((written[0] as { cid: string }).cid, 'bafk50', 'the oldest were dropped, the newest kept')
})

test('on PostgreSQL: records survive a real connection loss and land afterwards', async (t) => {
  const pg = await scratchPostgres(t)
  if ('skip' in pg) return t.skip(pg.skip)
  const store = await createStore({ databaseUrl: pg.url })
  t.after(() => store.close())
  const writer = createRecordWriter({ store }, { flushIntervalMs: 20 })
  writer.start()
  t.after(() => writer.stop())
  await terminateConnections(pg.url)
  const ids = Array.from({ length: 5 }, () => randomUUID())
  for (const id of ids)
    writer.record({
      type: 'retrieval-started',
      id,
      rootCid: 'bafyx',
      requestedCid: 'bafyx',
      requestedBy: [],
      policyVersion: 0,
      at: new Date()
    })
  await waitFor(() => writer.stats().written === 5, 20_000)
  const listed = await store.retrievals.list({ limit: 10 })
  assert.deepEqual(new Set(listed.items.map((r) => r.id)), new Set(ids))
})
