import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RetrievalRecord } from '@autoretrieve/interface'
import { GO_METRICS, parseExposition, sampleValue as value } from '@autoretrieve/testkit'
import { createMetrics } from '../src/index.ts'

const fresh = () =>
  createMetrics({
    cache: () => ({ blocks: 0, bytes: 0, diskBytes: 0 }),
    pruneThresholdBytes: 0,
    peers: () => 0,
    records: () => ({ buffered: 0, written: 0, dropped: 0 }),
    heartbeat: () => ({ state: 'disabled', lastSuccessAt: null })
  })
const P = 'autoretrieve_'

test('every Go metric name is exported from the start, with the Go type; Go-bounded histograms keep their buckets', async () => {
  assert.equal(GO_METRICS.length, 36)
  const m = parseExposition(await fresh().render())
  for (const { name, type, buckets } of GO_METRICS) {
    assert.equal(m.types.get(P + name), type, `${name}: ${type}`)
    if (type === 'counter' && name !== 'bitswap_response_total') assert.equal(value(m, P + name), 0, `${name} at 0`)
    if (type === 'histogram' && buckets !== undefined && buckets.length > 0) {
      const les = m.samples
        .filter((s) => s.name === `${P}${name}_bucket` && Object.keys(s.labels).length === 1)
        .map((s) => s.labels.le)
      assert.deepEqual(les, [...buckets.map(String), '+Inf'], `${name} buckets`)
    }
  }
  // Go's retrieval_deal_cost_fil had no bounds: only the +Inf bucket, and nothing observed yet.
  assert.deepEqual(
    m.samples.filter((s) => s.name === `${P}retrieval_deal_cost_fil_bucket`).map((s) => [s.labels.le, s.value]),
    [['+Inf', 0]]
  )
})

function attempt(
  retrievalId: string,
  outcome: 'failed' | 'success',
  errorClass: string | null,
  errorMessage: string | null
) {
  return {
    type: 'attempt',
    id: `${retrievalId}-${Math.random()}`,
    retrievalId,
    provider: 'p',
    protocol: 'graphsync',
    startedAt: new Date(),
    connectedAt: null,
    firstByteAt: null,
    endedAt: new Date(),
    bytes: 0,
    blocks: 0,
    outcome,
    errorClass,
    errorMessage
  } as RetrievalRecord
}

test("failed attempts count in the Go node's retrieval_error_* classes; failed attempts before a success are observed", async () => {
  const metrics = fresh()
  const feed = (r: RetrievalRecord) => metrics.retrievals.onRecord(r)
  feed({
    type: 'retrieval-started',
    id: 'r1',
    rootCid: 'x',
    requestedCid: 'x',
    requestedBy: [],
    policyVersion: 1,
    at: new Date()
  })
  const failures: [string | null, string | null][] = [
    ['rejected', 'deal rejected: failed to get payment channel: no funds'],
    ['rejected', 'response rejected: miner is not accepting online retrieval deals'],
    ['other', 'graphsync: unconfirmed block transfer'],
    ['rejected', 'response rejected: no unsealed piece'],
    ['too_many_deals', 'p: too many retrieval deals received'],
    ['access_control', 'p: access denied'],
    ['under_maintenance', 'p: maintenance'],
    ['timeout', 'no verified bytes from p for 60000 ms'],
    ['http_status', 'http://p: HTTP 500']
  ]
  for (const [cls, msg] of failures) feed(attempt('r1', 'failed', cls, msg))
  feed(attempt('r1', 'success', null, null))
  feed({ type: 'retrieval-finished', id: 'r1', status: 'success', reason: null, bytes: 1, blocks: 1, at: new Date() })
  const m = parseExposition(await metrics.render())
  for (const name of [
    'paych',
    'noonline',
    'unconfirmed',
    'rejected',
    'toomany',
    'acl',
    'maintenance',
    'timeout',
    'other'
  ])
    assert.equal(value(m, `${P}retrieval_error_${name}_total`), 1, name)
  assert.equal(value(m, `${P}failed_retrievals_per_request_total_count`), 1)
  assert.equal(value(m, `${P}failed_retrievals_per_request_total_sum`), failures.length)
})

test('Go counts starts and ends in retrieval_deal_active_total; bytes from providers are data_transferred_bytes_total', async () => {
  const metrics = fresh()
  metrics.retriever.onAttemptStarted('http')
  metrics.retriever.onBytes('http', 1000)
  metrics.retriever.onAttemptEnded('http', 'success', { bytes: 1000, durationMs: 5 })
  const m = parseExposition(await metrics.render())
  assert.equal(value(m, `${P}retrieval_deal_active_total`), 2)
  assert.equal(value(m, `${P}retrieval_deal_active`), 0)
  assert.equal(value(m, `${P}data_transferred_bytes_total`), 1000)
})

test('retrieval_deal_cost_fil observes what each successful attempt paid in attoFIL, a free one as 0, as Go recorded TotalPayment', async () => {
  const metrics = fresh()
  const feed = (r: RetrievalRecord) => metrics.retrievals.onRecord(r)
  feed({ ...attempt('r1', 'success', null, null), cost: '2500000000000' } as RetrievalRecord)
  feed(attempt('r2', 'success', null, null))
  // A failed attempt's partial payment is spend, not a deal's cost.
  feed({ ...attempt('r3', 'failed', 'overcharged', 'p asked for more than it sent'), cost: '10' } as RetrievalRecord)
  const m = parseExposition(await metrics.render())
  assert.equal(value(m, `${P}retrieval_deal_cost_fil_count`), 2)
  assert.equal(value(m, `${P}retrieval_deal_cost_fil_sum`), 2_500_000_000_000)
})

test('the paych class counts in retrieval_error_paych_total; a price over the caps is a pass-over, in no Go class', async () => {
  const metrics = fresh()
  const feed = (r: RetrievalRecord) => metrics.retrievals.onRecord(r)
  feed(attempt('r1', 'failed', 'paych', 'no payment channel to f1abc: Lotus: insufficient funds'))
  feed(attempt('r1', 'failed', 'price_too_high', 'asks 2 attoFIL/byte, max-price-per-byte is 1'))
  let m = parseExposition(await metrics.render())
  assert.equal(value(m, `${P}retrieval_error_paych_total`), 1)
  assert.equal(value(m, `${P}retrieval_error_other_total`), 0)
  // Mid-transfer (connected, a proposal sent), the day's limit reached: a failed retrieval.
  feed({
    ...attempt('r1', 'failed', 'price_too_high', 'over max-spend-per-day'),
    connectedAt: new Date()
  } as RetrievalRecord)
  m = parseExposition(await metrics.render())
  assert.equal(value(m, `${P}retrieval_error_other_total`), 1)
})
