import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { createSnapshot } from '@autoretrieve/policy'
import { createIpniSource } from '@autoretrieve/routing'
import { createUnixfsFixture, startProvider } from '@autoretrieve/testkit'
import { createRateLimiter, createRetriever, type RetrievalRecord } from '../src/index.ts'
import { DEFAULTS, indexed, setup } from './helpers.ts'

test('a bucket allows its burst, then its rate; a key coming back finds its bucket as it left it', () => {
  let now = 0
  const limiter = createRateLimiter({ ratePerSecond: 10, burst: 5, now: () => now })
  const taken = Array.from({ length: 8 }, () => limiter.tryTake('peer-a'))
  assert.deepEqual(taken, [true, true, true, true, true, false, false, false])
  assert.equal(limiter.tryTake('peer-b'), true, 'another key has its own bucket')
  // "Reconnecting" changes nothing: the state is the key's, not a connection's.
  assert.equal(limiter.tryTake('peer-a'), false)
  now += 100 // one token back at 10/s
  assert.equal(limiter.tryTake('peer-a'), true)
  assert.equal(limiter.tryTake('peer-a'), false)
  now += 10_000
  assert.equal(limiter.available('peer-a'), 5, 'a bucket refills up to its burst, no further')
})

test('the limiter remembers a bounded number of keys, and forgets idle ones that have refilled', () => {
  let now = 0
  const limiter = createRateLimiter({ ratePerSecond: 1, burst: 2, maxKeys: 100, now: () => now })
  for (let i = 0; i < 1_000; i++) limiter.tryTake(`peer-${i}`)
  assert.equal(limiter.size, 100)
  now += 2_000 // every bucket full again: equal to no bucket
  for (let i = 0; i < 50; i++) limiter.tryTake(`new-${i}`)
  assert.ok(limiter.size < 100, `idle keys were evicted as new ones came (size ${limiter.size})`)
  assert.throws(() => createRateLimiter({ ratePerSecond: -1, burst: 1 }), RangeError)
  assert.throws(() => createRateLimiter({ ratePerSecond: 1, burst: 0 }), RangeError)
  const open = createRateLimiter({ ratePerSecond: 0, burst: 1 })
  assert.ok(Array.from({ length: 1_000 }, () => open.tryTake('x')).every(Boolean), 'rate 0 = no limit')
})

test('a requester past its burst is refused rate_limited without a lookup; joining a running retrieval is free', async (t) => {
  const fixtures = await Promise.all(
    Array.from({ length: 4 }, (_, i) => createUnixfsFixture({ size: 60_000, chunkSize: 20_000, seed: 300 + i }))
  )
  const p = await startProvider({ cars: fixtures.map((f) => f.car), protocols: ['http'], fault: 'delay:200' })
  t.after(() => p.close())
  const { retriever, indexer } = await setup(t, indexed(p), {}, { requesterRatePerSecond: 1, requesterBurst: 2 })
  const first = retriever.retrieve(fixtures[0].root, { requestedBy: 'peer-a' })
  // The same root while its retrieval runs: joins it, no token spent (twice over).
  const joined = [
    retriever.retrieve(fixtures[0].root, { requestedBy: 'peer-a' }),
    retriever.retrieve(fixtures[0].root, { requestedBy: 'peer-a' })
  ]
  const second = retriever.retrieve(fixtures[1].root, { requestedBy: 'peer-a' })
  const third = await retriever.retrieve(fixtures[2].root, { requestedBy: 'peer-a' })
  assert.equal(!third.ok && third.reason, 'rate_limited')
  const other = retriever.retrieve(fixtures[3].root, { requestedBy: 'peer-b' })
  const results = await Promise.all([first, ...joined, second, other])
  assert.ok(
    results.every((r) => r.ok),
    JSON.stringify(results.map((r) => !r.ok && r.reason))
  )
  const asked = indexer.requests.map((r) => r.path)
  assert.ok(!asked.some((path) => path.includes(fixtures[2].root.toString())), 'the refused root cost no lookup')
  assert.equal(retriever.stats().rateLimited, 1)
  // The operator's own fetch (no requester) is never limited.
  const mine = await retriever.retrieve(fixtures[2].root)
  assert.ok(mine.ok)
})

test('past max-concurrent-retrievals and a full queue, a retrieval fails overloaded at once', async (t) => {
  const fixtures = await Promise.all(
    Array.from({ length: 3 }, (_, i) => createUnixfsFixture({ size: 40_000, chunkSize: 20_000, seed: 320 + i }))
  )
  const p = await startProvider({ cars: fixtures.map((f) => f.car), protocols: ['http'], fault: 'delay:300' })
  t.after(() => p.close())
  const { retriever, events } = await setup(t, indexed(p), {}, { maxConcurrentRetrievals: 1, maxQueuedRetrievals: 1 })
  const running = retriever.retrieve(fixtures[0].root)
  await waitFor(() => p.stats.inFlight >= 1)
  const queued = retriever.retrieve(fixtures[1].root)
  await waitFor(() => events.filter((e) => e.type === 'candidates').length >= 2)
  const refused = await retriever.retrieve(fixtures[2].root)
  assert.equal(!refused.ok && refused.reason, 'overloaded')
  assert.equal(!refused.ok && refused.error.name, 'QueueFullError')
  const [a, b] = await Promise.all([running, queued])
  assert.ok(a.ok && b.ok, 'the running and the queued retrieval both finish')
  assert.deepEqual(retriever.stats().failures, { overloaded: 1 })
})

test('an unreachable indexer is indexer_failed with its error, recorded as such, never no_candidates', async () => {
  const fixture = await createUnixfsFixture({ size: 40_000, chunkSize: 20_000, seed: 330 })
  const port = await closedPort()
  const events: RetrievalRecord[] = []
  const retriever = createRetriever(
    {
      cache: { has: async () => false, get: async () => undefined, put: async () => true },
      policy: () => createSnapshot({ version: 1, defaultMinerConfig: DEFAULTS }),
      candidates: createIpniSource({}, { endpointUrl: `http://127.0.0.1:${port}`, timeoutMs: 3_000 }),
      adapters: [],
      records: { record: (e) => events.push(e) }
    },
    {}
  )
  const result = await retriever.retrieve(fixture.root)
  assert.equal(!result.ok && result.reason, 'indexer_failed')
  assert.equal(!result.ok && result.error.name, 'IndexerUnavailableError')
  const finished = events.find((e) => e.type === 'retrieval-finished')
  assert.equal(finished?.type === 'retrieval-finished' && finished.reason, 'indexer_failed')
  assert.match(finished?.type === 'retrieval-finished' ? (finished.error ?? '') : '', new RegExp(`127.0.0.1:${port}`))
  assert.deepEqual(retriever.stats().failures, { indexer_failed: 1 })
})

/** A loopback port with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
