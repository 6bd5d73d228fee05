import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startIndexer } from '@autoretrieve/testkit'
import type { CID } from 'multiformats/cid'
import { type Candidate, type CandidateSource, createIpniSource, createLookupGuard } from '../src/index.ts'
import { cidOf, collect, isError, PEERS } from './helpers.ts'

async function indexer(t: { after(fn: () => Promise<unknown>): void }, cids: string[] = []) {
  const ix = await startIndexer({
    providers: [{ peerId: PEERS.a, addrs: ['/ip4/127.0.0.1/tcp/4001'], protocols: ['bitswap'], cids }]
  })
  t.after(() => ix.close())
  return ix
}

test('a CID the indexer does not know is asked for once; the next finds cost no lookup until the TTL ends', async (t) => {
  const missing = await cidOf('nowhere')
  const ix = await indexer(t)
  const guard = createLookupGuard(createIpniSource({}, { endpointUrl: ix.url }), { negativeTtlMs: 200 })
  for (let i = 0; i < 50; i++) assert.deepEqual(await collect(guard.find(missing)), [])
  assert.equal(ix.requests.length, 1)
  assert.equal(guard.stats().negativeHits, 49)
  await new Promise((r) => setTimeout(r, 250))
  await collect(guard.find(missing))
  assert.equal(ix.requests.length, 2, 'asked again once the entry expired')
})

test('a failed lookup (500, garbage) is not remembered as unknown: the next find asks again', async (t) => {
  const known = await cidOf('known')
  const ix = await indexer(t, [known.toString()])
  const guard = createLookupGuard(createIpniSource({}, { endpointUrl: ix.url }))
  ix.setFault('status500')
  await assert.rejects(collect(guard.find(known)), isError('IndexerUnavailableError'))
  ix.setFault('garbage')
  await assert.rejects(collect(guard.find(known)), isError('IndexerResponseError'))
  ix.setFault('none')
  const found = await collect(guard.find(known))
  assert.deepEqual(
    found.map((c) => c.peerId),
    [PEERS.a]
  )
  assert.equal(ix.requests.length, 3)
})

test('concurrent finds of one CID share one lookup', async (t) => {
  const known = await cidOf('shared')
  const ix = await indexer(t, [known.toString()])
  ix.setFault('delay:100')
  const guard = createLookupGuard(createIpniSource({}, { endpointUrl: ix.url }))
  const all = await Promise.all(Array.from({ length: 20 }, () => collect(guard.find(known))))
  assert.ok(all.every((found) => found.length === 1 && found[0].peerId === PEERS.a))
  assert.equal(ix.requests.length, 1)
  assert.equal(guard.stats().joined, 19)
})

test('lookups are bounded in concurrency, and past the queue a find fails at once with LookupQueueFullError', async () => {
  let active = 0
  let peak = 0
  let release: () => void = () => {}
  let gate = new Promise<void>((r) => {
    release = r
  })
  const slow: CandidateSource = {
    async *find(_cid: CID): AsyncIterable<Candidate> {
      active++
      peak = Math.max(peak, active)
      try {
        await gate
      } finally {
        active--
      }
      yield* [] // knows no provider
    }
  }
  const guard = createLookupGuard(slow, { maxConcurrent: 3, maxQueued: 5 })
  const cids = await Promise.all(Array.from({ length: 9 }, (_, i) => cidOf(`distinct-${i}`)))
  const finds = cids.map((cid) =>
    collect(guard.find(cid)).then(
      () => 'ok',
      (err: Error) => err.name
    )
  )
  await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual(guard.stats(), { lookups: 3, negativeHits: 0, joined: 0, refused: 1, active: 3, queued: 5 })
  release()
  gate = Promise.resolve()
  const outcomes = await Promise.all(finds)
  assert.equal(outcomes.filter((o) => o === 'ok').length, 8)
  assert.deepEqual(
    outcomes.filter((o) => o !== 'ok'),
    ['LookupQueueFullError']
  )
  assert.equal(peak, 3)
})

test('a find whose caller aborts leaves; the lookup stops when no one waits for it', async () => {
  let aborted = false
  const hanging: CandidateSource = {
    async *find(_cid: CID, options = {}): AsyncIterable<Candidate> {
      await new Promise<void>((_, reject) =>
        options.signal?.addEventListener('abort', () => {
          aborted = true
          reject(options.signal?.reason)
        })
      )
      yield* []
    }
  }
  const guard = createLookupGuard(hanging)
  const cid = await cidOf('hang')
  const controller = new AbortController()
  const finding = collect(guard.find(cid, { signal: controller.signal }))
  await new Promise((r) => setTimeout(r, 10))
  controller.abort(new Error('gone'))
  await assert.rejects(finding, /gone/)
  assert.equal(aborted, true)
  assert.equal(guard.stats().active, 0)
})
