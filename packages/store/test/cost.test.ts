import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import type { RecordEvent } from '../src/index.ts'
import { engines } from './engines.ts'

const ROOT = 'bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm'
const AT = new Date('2026-01-01T00:00:00Z')
const CHANNEL = 'f2kqpfkl2ff2ef6bbw7x4ubfdkhz5ig7jl5d6rmya'
/** Past 2^64 and far past 2^53: an amount a JavaScript number or a bigint column would round or refuse. */
const HUGE = '123456789012345678901234567890'

type Attempt = Extract<RecordEvent, { type: 'attempt' }>

function attempt(retrievalId: string, over: Partial<Attempt> = {}): Attempt {
  return {
    type: 'attempt',
    id: randomUUID(),
    retrievalId,
    provider: '12D3KooWprovider',
    protocol: 'graphsync',
    startedAt: AT,
    connectedAt: AT,
    firstByteAt: AT,
    endedAt: null,
    bytes: 0,
    blocks: 0,
    outcome: 'running',
    errorClass: null,
    errorMessage: null,
    ...over
  }
}

const started = (id: string): RecordEvent => ({
  type: 'retrieval-started',
  id,
  rootCid: ROOT,
  requestedCid: ROOT,
  requestedBy: ['12D3KooWclient'],
  policyVersion: 1,
  at: AT
})

for (const engine of ['pglite', 'postgres'] as const) {
  describe(`retrieval cost on ${engine}`, () => {
    test('attempt and retrieval costs and the payment channel are kept exactly, and read back by list, get and explain', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const id = randomUUID()
      const failed = attempt(id, { provider: '12D3KooWfirst' })
      const paid = attempt(id, { startedAt: new Date(AT.getTime() + 1000) })
      await store.retrievals.write([
        started(id),
        failed,
        // The first provider was paid for what it sent before it failed.
        { ...failed, outcome: 'failed', errorClass: 'bad_response', cost: '7', paymentChannel: CHANNEL },
        paid
      ])
      // While it runs, the retrieval's cost is what its attempts have paid so far.
      assert.equal((await store.retrievals.get(id))?.cost, '7')
      await store.retrievals.write([
        { ...paid, outcome: 'success', bytes: 10, blocks: 1, endedAt: AT, cost: HUGE, paymentChannel: CHANNEL },
        {
          type: 'retrieval-finished',
          id,
          status: 'success',
          reason: null,
          bytes: 10,
          blocks: 1,
          cost: '123456789012345678901234567897',
          at: AT
        }
      ])
      const got = await store.retrievals.get(id)
      assert.ok(got)
      assert.equal(got.cost, '123456789012345678901234567897')
      assert.deepEqual(
        got.attempts.map((a) => [a.provider, a.outcome, a.cost, a.paymentChannel]), // by start time
        [
          ['12D3KooWfirst', 'failed', '7', CHANNEL],
          ['12D3KooWprovider', 'success', HUGE, CHANNEL]
        ]
      )
      assert.equal((await store.retrievals.list({})).items[0].cost, '123456789012345678901234567897')
      const why = await store.retrievals.explain(ROOT)
      assert.equal(why.retrievals[0].cost, '123456789012345678901234567897')
      assert.equal(why.retrievals[0].attempts[1].cost, HUGE)
    })

    test('a free retrieval costs null; a later record without a cost, or with a smaller one, never lowers it', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const free = randomUUID()
      await store.retrievals.write([
        started(free),
        attempt(free, { outcome: 'success' }),
        { type: 'retrieval-finished', id: free, status: 'success', reason: null, bytes: 1, blocks: 1, at: AT }
      ])
      const freeGot = await store.retrievals.get(free)
      assert.equal(freeGot?.cost, null)
      assert.equal(freeGot?.attempts[0].cost, null)
      assert.equal(freeGot?.attempts[0].paymentChannel, null)

      const id = randomUUID()
      const a = attempt(id)
      // Out of order, across batches and within one: the paid record, then a stale 'running' one.
      await store.retrievals.write([started(id), { ...a, cost: '500', paymentChannel: CHANNEL }, { ...a, cost: '400' }])
      await store.retrievals.write([a])
      const got = await store.retrievals.get(id)
      assert.equal(got?.attempts[0].cost, '500')
      assert.equal(got?.attempts[0].paymentChannel, CHANNEL)
      // Its finish carried no cost (an older writer): the attempts' sum stands in.
      await store.retrievals.write([
        { type: 'retrieval-finished', id, status: 'failed', reason: 'retrieval_failed', bytes: 0, blocks: 0, at: AT }
      ])
      assert.equal((await store.retrievals.get(id))?.cost, '500')
    })

    test('a malformed amount is left out rather than stopping the batch it came in', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const id = randomUUID()
      await store.retrievals.write([
        started(id),
        attempt(id, { cost: '-5', paymentChannel: CHANNEL }),
        { type: 'retrieval-finished', id, status: 'success', reason: null, bytes: 1, blocks: 1, cost: '0.5', at: AT }
      ])
      const got = await store.retrievals.get(id)
      assert.equal(got?.status, 'success', 'the rest of the batch was written')
      assert.equal(got?.cost, null)
      assert.equal(got?.attempts[0].cost, null)
    })

    test('costs sum exactly in SQL', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const id = randomUUID()
      await store.retrievals.write([
        started(id),
        attempt(id, { cost: HUGE }),
        attempt(id, { cost: HUGE }),
        attempt(id, { cost: '1' })
      ])
      assert.equal((await store.retrievals.get(id))?.cost, '246913578024691357802469135781')
    })
  })
}
