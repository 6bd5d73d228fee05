import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { RetrievalRecord } from '@autoretrieve/interface'
import { startEventRecorder, waitUntil } from '@autoretrieve/testkit'
import { createEventRecorder, readEventRecorderAuth } from '../src/index.ts'

const ROOT = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const PEER = '12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9iSwYntZ9WjHa'

/** The records of one retrieval: two attempts, one failed and one that delivered. */
function retrieval(id: string): RetrievalRecord[] {
  const t0 = new Date('2026-12-06T10:00:00.000Z')
  const at = (ms: number) => new Date(t0.getTime() + ms)
  const attempt = (aid: string, provider: string) =>
    ({
      type: 'attempt',
      id: aid,
      retrievalId: id,
      provider,
      protocol: 'graphsync',
      startedAt: at(1),
      connectedAt: null,
      firstByteAt: null,
      endedAt: null,
      bytes: 0,
      blocks: 0,
      outcome: 'running',
      errorClass: null,
      errorMessage: null
    }) as const
  return [
    { type: 'retrieval-started', id, rootCid: ROOT, requestedCid: ROOT, requestedBy: [], policyVersion: 1, at: t0 },
    attempt(`${id}-a`, 'f01234'),
    attempt(`${id}-b`, PEER),
    {
      ...attempt(`${id}-a`, 'f01234'),
      endedAt: at(50),
      outcome: 'failed',
      errorClass: 'too_many_deals',
      errorMessage: 'f01234: Too many retrieval deals received'
    },
    {
      ...attempt(`${id}-b`, PEER),
      connectedAt: at(10),
      firstByteAt: at(20),
      endedAt: at(100),
      bytes: 1234,
      blocks: 3,
      outcome: 'success'
    },
    { type: 'retrieval-finished', id, status: 'success', reason: null, bytes: 1234, blocks: 3, at: at(100) }
  ]
}

test('a retrieval becomes lassie events per phase, posted in a batch with Basic auth', async (t) => {
  const server = await startEventRecorder({ authorization: 'dXNlcjpwYXNz' })
  t.after(() => server.close())
  const recorder = createEventRecorder({}, { url: server.url, instanceName: 'edge-1', authorization: 'dXNlcjpwYXNz' })
  t.after(() => recorder.stop())
  for (const r of retrieval('0b3d2c7e-1d6f-4f7e-9a51-5f3f1a1f0001')) recorder.record(r)
  await waitUntil('six events at the recorder', () => server.events.length === 6)
  assert.deepEqual(server.problems, [])
  assert.equal(server.posts.unauthorized, 0)
  assert.ok(server.posts.accepted <= 2, 'batched')
  const byName = server.events.map((e) => `${e.storageProviderId}:${e.eventName}`)
  assert.deepEqual(byName.sort(), [
    `${PEER}:connected`,
    `${PEER}:first-byte-received`,
    `${PEER}:started`,
    `${PEER}:success`,
    'f01234:failure',
    'f01234:started'
  ])
  for (const e of server.events) {
    assert.equal(e.instanceId, 'edge-1')
    assert.equal(e.cid, ROOT)
    assert.equal(e.phase, 'retrieval')
    assert.equal(e.phaseStartTime, '2026-12-06T10:00:00.001Z')
  }
  const success = server.events.find((e) => e.eventName === 'success')!
  assert.deepEqual(success.eventDetails, { receivedSize: 1234, receivedCids: 3, durationMs: 99 })
  assert.equal(success.eventTime, '2026-12-06T10:00:00.100Z')
  const failure = server.events.find((e) => e.eventName === 'failure')!
  assert.deepEqual(failure.eventDetails, { error: 'f01234: Too many retrieval deals received' })
  await waitUntil('the posts answered', () => recorder.stats().sent === 6)
  assert.deepEqual(recorder.stats(), { sent: 6, dropped: 0, queued: 0 })
})

test('a wrong credential is refused by the recorder; its events are dropped and counted', async (t) => {
  const server = await startEventRecorder({ authorization: 'right' })
  t.after(() => server.close())
  const recorder = createEventRecorder({}, { url: server.url, instanceName: 'x', authorization: 'wrong' })
  t.after(() => recorder.stop())
  for (const r of retrieval('0b3d2c7e-1d6f-4f7e-9a51-5f3f1a1f0002')) recorder.record(r)
  await waitUntil('six events dropped', () => recorder.stats().dropped === 6)
  assert.ok(server.posts.unauthorized >= 1)
  assert.equal(server.events.length, 0)
})

test('a recorder that hangs: record() never waits, posts give up at the timeout, the queue stays bounded', async (t) => {
  const server = await startEventRecorder({ fault: 'hang' })
  t.after(() => server.close())
  const recorder = createEventRecorder(
    {},
    { url: server.url, instanceName: 'x', timeoutMs: 300, maxQueued: 20, concurrency: 2 }
  )
  t.after(() => recorder.stop())
  // record() is synchronous: everything below holds right after it returns, while the posts hang.
  for (let i = 0; i < 50; i++) for (const r of retrieval(`r-${i}`)) recorder.record(r)
  // 300 events offered: the queue takes 20, the rest are dropped at once.
  assert.deepEqual(recorder.stats(), { sent: 0, dropped: 280, queued: 20 })
  await waitUntil('every event dropped', () => recorder.stats().dropped === 300)
  assert.equal(recorder.stats().sent, 0)
  assert.ok(server.posts.faulted >= 1)
})

test('eventrecorderauth: trimmed contents, or none when absent or empty', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ar-era-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  assert.equal(await readEventRecorderAuth(dir), undefined)
  await writeFile(join(dir, 'eventrecorderauth'), '  dXNlcjpwYXNz\n')
  assert.equal(await readEventRecorderAuth(dir), 'dXNlcjpwYXNz')
  await writeFile(join(dir, 'eventrecorderauth'), '\n')
  assert.equal(await readEventRecorderAuth(dir), undefined)
})

test('a recorder that refuses (503) loses those events, counted; once it is back, later events arrive', async (t) => {
  const server = await startEventRecorder({ fault: 'refuse' })
  t.after(() => server.close())
  const recorder = createEventRecorder({}, { url: server.url, instanceName: 'x' })
  t.after(() => recorder.stop())
  for (const r of retrieval('r-refused')) recorder.record(r)
  await waitUntil('the refused events counted', () => recorder.stats().dropped === 6)
  server.setFault('none')
  for (const r of retrieval('r-later')) recorder.record(r)
  await waitUntil('the later events accepted', () => recorder.stats().sent === 6)
  assert.deepEqual(new Set(server.events.map((e) => e.retrievalId)), new Set(['r-later']))
})
