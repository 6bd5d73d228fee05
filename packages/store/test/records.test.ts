import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { CID } from 'multiformats/cid'
import type { RecordEvent } from '../src/index.ts'
import { engines } from './engines.ts'

const V0 = 'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk'
const V1 = CID.parse(V0).toV1().toString()
const OTHER = 'bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm'
const BASE = Date.parse('2026-01-01T00:00:00Z')

/** Seven retrievals one second apart; #3 is for V1, #5 fails; attempts alternate p1/p3. */
function history(): { ids: string[]; events: RecordEvent[] } {
  const events: RecordEvent[] = []
  const ids: string[] = []
  for (let i = 0; i < 7; i++) {
    const id = randomUUID()
    ids.push(id)
    const at = new Date(BASE + i * 1000)
    events.push({
      type: 'retrieval-started',
      id,
      rootCid: i === 3 ? V1 : OTHER,
      requestedCid: i === 3 ? V1 : OTHER,
      requestedBy: ['12D3KooWpeer'],
      policyVersion: 1,
      at
    })
    events.push({
      type: 'candidates',
      retrievalId: id,
      source: 'ipni',
      candidates: [
        {
          provider: 'p1',
          protocols: ['http'],
          addrs: ['/ip4/127.0.0.1/tcp/1'],
          verdict: 'accepted',
          reason: null,
          policyVersion: 1
        },
        {
          provider: 'p2',
          protocols: ['bitswap'],
          addrs: [],
          verdict: 'dropped',
          reason: 'denied_provider',
          policyVersion: 1
        }
      ],
      at
    })
    const attempt = {
      type: 'attempt' as const,
      id: randomUUID(),
      retrievalId: id,
      provider: i % 2 === 0 ? 'p1' : 'p3',
      protocol: 'http' as const,
      startedAt: at,
      connectedAt: null,
      firstByteAt: null,
      endedAt: null,
      bytes: 0,
      blocks: 0,
      outcome: 'running' as const,
      errorClass: null,
      errorMessage: null
    }
    events.push(attempt)
    events.push({
      ...attempt,
      outcome: i === 5 ? 'failed' : 'success',
      connectedAt: at,
      firstByteAt: at,
      bytes: 100,
      blocks: 2,
      endedAt: new Date(at.getTime() + 500),
      errorClass: i === 5 ? 'timeout' : null
    })
    events.push({
      type: 'retrieval-finished',
      id,
      status: i === 5 ? 'failed' : 'success',
      reason: i === 5 ? 'timeout' : null,
      bytes: 100,
      blocks: 2,
      at: new Date(at.getTime() + 500)
    })
  }
  events.push({
    type: 'refusal',
    cid: V0,
    peer: '12D3KooWpeer',
    reason: 'blacklisted_cid',
    policyVersion: 4,
    at: new Date(BASE)
  })
  return { ids, events }
}

for (const engine of ['pglite', 'postgres'] as const) {
  describe(`retrieval records on ${engine}`, () => {
    test('round-trip with keyset pagination (newest first), filters, details and explain by multihash', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const { ids, events } = history()
      // Stamped with the writing instance's name: every retrieval and refusal says who made it.
      await store.retrievals.write(events.slice(0, 12), { instance: 'edge-r' })
      await store.retrievals.write(events.slice(12), { instance: 'edge-r' })
      await store.retrievals.write(events.slice(12), { instance: 'edge-r' }) // a retried batch changes nothing

      const page1 = await store.retrievals.list({ limit: 3 })
      assert.deepEqual(
        page1.items.map((r) => r.id),
        [ids[6], ids[5], ids[4]]
      )
      const page2 = await store.retrievals.list({ limit: 3, cursor: page1.nextCursor! })
      assert.deepEqual(
        page2.items.map((r) => r.id),
        [ids[3], ids[2], ids[1]]
      )
      const page3 = await store.retrievals.list({ limit: 3, cursor: page2.nextCursor! })
      assert.deepEqual(
        page3.items.map((r) => r.id),
        [ids[0]]
      )
      assert.equal(page3.nextCursor, null)
      assert.equal((await store.retrievals.list({})).items.length, 7)

      assert.deepEqual(
        (await store.retrievals.list({ status: 'failed' })).items.map((r) => r.id),
        [ids[5]]
      )
      assert.deepEqual(
        (await store.retrievals.list({ provider: 'p3' })).items.map((r) => r.id),
        [ids[5], ids[3], ids[1]]
      )
      assert.deepEqual(
        (await store.retrievals.list({ cid: V0 })).items.map((r) => r.id),
        [ids[3]],
        'a CIDv0 finds the retrieval recorded under its CIDv1'
      )
      const p3p1 = await store.retrievals.list({ provider: 'p3', limit: 1, status: 'success' })
      assert.deepEqual(
        p3p1.items.map((r) => r.id),
        [ids[3]]
      )
      assert.deepEqual(
        (
          await store.retrievals.list({ provider: 'p3', limit: 1, status: 'success', cursor: p3p1.nextCursor! })
        ).items.map((r) => r.id),
        [ids[1]]
      )
      await assert.rejects(store.retrievals.list({ cursor: 'garbage' }), {
        name: 'InvalidCursorError',
        code: 'ERR_INVALID_CURSOR'
      })

      const detail = await store.retrievals.get(ids[5])
      assert.ok(detail)
      assert.equal(detail.status, 'failed')
      assert.equal(detail.reason, 'timeout')
      assert.equal(detail.bytes, 100)
      assert.equal(detail.startedAt.getTime(), BASE + 5000)
      assert.equal(detail.endedAt?.getTime(), BASE + 5500)
      assert.equal(detail.attempts.length, 1, 'the attempt was upserted, not duplicated')
      assert.equal(detail.attempts[0].outcome, 'failed')
      assert.equal(detail.attempts[0].errorClass, 'timeout')
      assert.equal(detail.candidates.length, 2, 'a retried batch leaves no duplicate candidates')
      assert.equal(detail.candidates.find((c) => c.provider === 'p2')?.reason, 'denied_provider')
      assert.deepEqual(detail.candidates.find((c) => c.provider === 'p1')?.addrs, ['/ip4/127.0.0.1/tcp/1'])
      assert.equal(await store.retrievals.get(randomUUID()), null)
      assert.equal(await store.retrievals.get('not-a-uuid'), null)

      const why = await store.retrievals.explain(V0)
      assert.deepEqual(
        why.retrievals.map((r) => r.id),
        [ids[3]]
      )
      assert.equal(why.retrievals[0].candidates.length, 2)
      assert.equal(why.retrievals[0].attempts.length, 1)
      assert.deepEqual(why.refusals, [
        { instance: 'edge-r', peer: '12D3KooWpeer', reason: 'blacklisted_cid', policyVersion: 4, at: new Date(BASE) }
      ])
      assert.equal(why.retrievals[0].instance, 'edge-r')
      const whyV1 = await store.retrievals.explain(V1)
      assert.equal(whyV1.refusals.length, 1, 'refusals match by multihash too')
    })

    test('events in any order across batches end in the same row', async (t) => {
      const e = await engines[engine](t)
      if ('skip' in e) return t.skip(e.skip)
      const store = await e.open()
      const { ids, events } = history()
      const mine = events.filter(
        (x) => ('id' in x && x.id === ids[0]) || ('retrievalId' in x && x.retrievalId === ids[0])
      )
      // finish, then attempts, then the start: each its own batch.
      await store.retrievals.write([mine[4]])
      await store.retrievals.write([mine[3]])
      await store.retrievals.write([mine[0], mine[1]])
      const got = await store.retrievals.get(ids[0])
      assert.ok(got)
      assert.equal(got.status, 'success')
      assert.equal(got.rootCid, OTHER)
      assert.equal(got.startedAt.getTime(), BASE)
      assert.equal(got.endedAt?.getTime(), BASE + 500)
      assert.equal(got.attempts[0].outcome, 'success')
      const running = await store.retrievals.list({ status: 'running' })
      assert.equal(running.items.length, 0)
    })
  })
}
