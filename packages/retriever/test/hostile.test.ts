import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkDag } from '@autoretrieve/dag'
import { createUnixfsFixture, type ProviderFault, startProvider } from '@autoretrieve/testkit'
import type { RetrievalRecord } from '../src/index.ts'
import { DEFAULTS, indexed, setup } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

async function provider(t: After, car: Uint8Array, fault: ProviderFault) {
  const p = await startProvider({ cars: [car], protocols: ['http'], fault })
  t.after(() => p.close())
  return p
}

const attempts = (events: RetrievalRecord[]) =>
  events.filter(
    (e): e is Extract<RetrievalRecord, { type: 'attempt' }> => e.type === 'attempt' && e.outcome !== 'running'
  )

/** What a reader may have pulled off the socket before it refused: kernel buffers, never the claim. */
const READ_BOUND = 64 * 1024 * 1024

for (const [fault, errorClass] of [
  ['huge-block', 'block_too_large'],
  ['huge-header', 'header_too_large']
] as const) {
  test(`a provider whose CAR is a ${fault.replace('huge-', '')} claiming ${fault === 'huge-block' ? '1 GiB' : '100 MiB'} fails ${errorClass} before it is buffered; the next provider serves the DAG`, async (t) => {
    const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 100_000, seed: 1301 })
    const hostile = await provider(t, fixture.car, fault)
    const good = await provider(t, fixture.car, 'none')
    const { retriever, events, cache } = await setup(t, [...indexed(hostile), ...indexed(good)])
    const result = await retriever.retrieve(fixture.root)
    assert.equal(result.ok, true, JSON.stringify(result))
    assert.equal(result.ok && result.provider, good.peerId)
    const failed = attempts(events).filter((a) => a.outcome === 'failed')
    assert.deepEqual(
      failed.map((a) => [a.provider, a.errorClass, a.blocks]),
      [[hostile.peerId, errorClass, 0]]
    )
    assert.match(failed[0].errorMessage ?? '', /over the \d+-byte/)
    assert.ok(
      hostile.stats.junkBytesSent < READ_BOUND,
      `the node stopped reading: ${hostile.stats.junkBytesSent} junk bytes were written`
    )
    assert.equal((await checkDag(fixture.root, (cid) => cache.get(cid))).complete, true)
  })

  test(`alone, a ${fault} provider fails the retrieval with its attempt's class and caches nothing`, async (t) => {
    const fixture = await createUnixfsFixture({ size: 300_000, chunkSize: 100_000, seed: 1302 })
    const hostile = await provider(t, fixture.car, fault)
    const { retriever, events, cache } = await setup(t, indexed(hostile))
    const result = await retriever.retrieve(fixture.root)
    assert.equal(!result.ok && result.reason, 'retrieval_failed')
    assert.deepEqual(
      attempts(events).map((a) => a.errorClass),
      [errorClass]
    )
    assert.equal(await cache.has(fixture.root), false, 'nothing of the hostile answer was cached')
  })
}

test('a provider that accepts and never answers, listed first, fails first-byte-timeout and the next serves the DAG', async (t) => {
  const fixture = await createUnixfsFixture({ size: 300_000, chunkSize: 100_000, seed: 1303 })
  const hanging = await provider(t, fixture.car, 'hang')
  const good = await provider(t, fixture.car, 'none')
  // retrieval-timeout as the Go default: only the first-byte timeout can end the hanging attempt soon.
  const { retriever, events } = await setup(
    t,
    [...indexed(hanging), ...indexed(good)],
    { defaultMinerConfig: { ...DEFAULTS, retrievalTimeoutMs: 60_000, firstByteTimeoutMs: 300 } },
    { candidateStaggerMs: 60_000 }
  )
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, good.peerId, JSON.stringify(result))
  const hung = attempts(events).find((a) => a.provider === hanging.peerId)
  assert.equal(hung?.outcome, 'failed')
  assert.equal(hung?.errorClass, 'timeout')
  assert.match(hung?.errorMessage ?? '', /first-byte-timeout/)
  assert.equal(hung?.firstByteAt, null)
})

test('with a long first-byte timeout a hanging first provider costs only the stagger: the next one starts and wins', async (t) => {
  const fixture = await createUnixfsFixture({ size: 300_000, chunkSize: 100_000, seed: 1304 })
  const hanging = await provider(t, fixture.car, 'hang')
  const good = await provider(t, fixture.car, 'none')
  const { retriever, events } = await setup(
    t,
    [...indexed(hanging), ...indexed(good)],
    { defaultMinerConfig: { ...DEFAULTS, retrievalTimeoutMs: 60_000, firstByteTimeoutMs: 60_000 } },
    { candidateStaggerMs: 200 }
  )
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok && result.provider, good.peerId, JSON.stringify(result))
  // The hanging attempt was cancelled by the winner, not waited out.
  const hung = attempts(events).find((a) => a.provider === hanging.peerId)
  assert.equal(hung?.outcome, 'cancelled')
  assert.equal(hanging.stats.inFlight, 0, 'its request was closed')
})

test('junk after a complete DAG is not a failure: the attempt succeeds and stops reading', async (t) => {
  const fixture = await createUnixfsFixture({ size: 300_000, chunkSize: 100_000, seed: 1305 })
  const p = await provider(t, fixture.car, 'trailing-junk')
  const { retriever, events, cache } = await setup(t, indexed(p))
  const result = await retriever.retrieve(fixture.root)
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.deepEqual(
    attempts(events).map((a) => [a.outcome, a.errorClass]),
    [['success', null]]
  )
  assert.equal((await checkDag(fixture.root, (cid) => cache.get(cid))).complete, true)
})
