import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseExposition, sampleValue as value } from '@autoretrieve/testkit'
import { createMetrics } from '../src/index.ts'

test('record totals, heartbeat outcomes and the heartbeat state reach /metrics between scrapes', async () => {
  const records = { buffered: 3, written: 10, dropped: 0 }
  const heartbeat = { state: 'ok' as 'ok' | 'failing', lastSuccessAt: '2026-01-02T03:04:05.000Z' as string | null }
  const metrics = createMetrics({
    cache: () => ({ blocks: 0, bytes: 0, diskBytes: 0 }),
    pruneThresholdBytes: 0,
    peers: () => 0,
    records: () => records,
    heartbeat: () => heartbeat
  })
  const scrape = async () => parseExposition(await metrics.render())

  for (const ok of [true, true, false]) metrics.heartbeat.onBeat(ok)
  let m = await scrape()
  assert.equal(value(m, 'autoretrieve_records_written_total'), 10)
  assert.equal(value(m, 'autoretrieve_records_buffered'), 3)
  assert.equal(value(m, 'autoretrieve_heartbeat_total', { outcome: 'success' }), 2)
  assert.equal(value(m, 'autoretrieve_heartbeat_total', { outcome: 'failure' }), 1)
  assert.equal(value(m, 'autoretrieve_heartbeat_state', { state: 'ok' }), 1)
  assert.equal(value(m, 'autoretrieve_heartbeat_state', { state: 'failing' }), 0)
  assert.equal(value(m, 'autoretrieve_heartbeat_last_success_timestamp_seconds'), Date.UTC(2026, 0, 2, 3, 4, 5) / 1000)

  // Reconfigured (the heartbeat's own status starts again), then failing; the counters go on.
  Object.assign(heartbeat, { state: 'failing', lastSuccessAt: null })
  metrics.heartbeat.onBeat(false)
  records.written = 15
  records.dropped = 2
  m = await scrape()
  assert.equal(value(m, 'autoretrieve_records_written_total'), 15)
  assert.equal(value(m, 'autoretrieve_records_dropped_total'), 2)
  assert.equal(value(m, 'autoretrieve_heartbeat_total', { outcome: 'success' }), 2)
  assert.equal(value(m, 'autoretrieve_heartbeat_total', { outcome: 'failure' }), 2)
  assert.equal(value(m, 'autoretrieve_heartbeat_state', { state: 'failing' }), 1)
  assert.equal(value(m, 'autoretrieve_heartbeat_last_success_timestamp_seconds'), 0)
  assert.equal(value(m, 'autoretrieve_cache_prune_threshold_bytes'), 0)
})

test('autoretrieve_retrieval_paid_attofil_total adds what every ended attempt paid, once, failed ones included', async () => {
  const metrics = createMetrics({
    cache: () => ({ blocks: 0, bytes: 0, diskBytes: 0 }),
    pruneThresholdBytes: 0,
    peers: () => 0,
    records: () => ({ buffered: 0, written: 0, dropped: 0 }),
    heartbeat: () => ({ state: 'disabled', lastSuccessAt: null })
  })
  const at = new Date()
  const attempt = (id: string, outcome: 'running' | 'success' | 'failed', cost?: string) => ({
    type: 'attempt' as const,
    id,
    retrievalId: 'r',
    provider: 'p',
    protocol: 'graphsync' as const,
    startedAt: at,
    connectedAt: at,
    firstByteAt: at,
    endedAt: outcome === 'running' ? null : at,
    bytes: 0,
    blocks: 0,
    outcome,
    errorClass: null,
    errorMessage: null,
    cost
  })
  let m = parseExposition(await metrics.render())
  assert.equal(value(m, 'autoretrieve_retrieval_paid_attofil_total'), 0, 'at 0 from the first scrape')
  // A running record's cost so far is not counted: the attempt's last record carries the total.
  metrics.retrievals.onRecord(attempt('a1', 'running', '100'))
  metrics.retrievals.onRecord(attempt('a1', 'success', '300'))
  metrics.retrievals.onRecord(attempt('a2', 'failed', '20'))
  metrics.retrievals.onRecord(attempt('a3', 'success'))
  m = parseExposition(await metrics.render())
  assert.equal(value(m, 'autoretrieve_retrieval_paid_attofil_total'), 320)
  assert.equal(value(m, 'autoretrieve_retrieval_paid_attempts_total'), 2)
})
