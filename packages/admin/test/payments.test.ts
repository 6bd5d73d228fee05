import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PaymentsSummary } from '@autoretrieve/paych'
import { createAdminApp, type StatsSnapshot } from '../src/index.ts'
import { paymentsReader } from '../src/routes/payments.ts'

const TOKEN = 'secret-token'
const auth = { headers: { Authorization: `Bearer ${TOKEN}` } }

/** The counters a node with nothing going on shows. */
const idle = (): StatsSnapshot => ({
  uptimeSeconds: 1,
  policyVersion: 1,
  peers: 0,
  wants: 0,
  wantsReceived: 0,
  hits: 0,
  misses: 0,
  blocksSent: 0,
  haves: 0,
  dontHaves: 0,
  retrievals: { active: 0, succeeded: 0, failed: 0, byOutcome: {} },
  bytes: { in: 0, out: 0 },
  ttfb: { count: 0, totalMs: 0, lastMs: null },
  cache: { blocks: 0, bytes: 0, diskBytes: 0, pruneThresholdBytes: 0 },
  records: { buffered: 0, written: 0, dropped: 0 },
  heartbeat: { state: 'disabled', lastSuccessAt: null, lastError: null },
  startedAt: new Date(0).toISOString()
})

const SUMMARY: PaymentsSummary = {
  spentToday: '30000000000000000',
  maxSpendPerDay: '100000000000000000',
  channels: [
    {
      address: 'f2kqpfkl2ff2ef6bbw7x4ubfdkhz5ig7jl5d6rmya',
      from: 'f1abc',
      to: 'f1def',
      balance: '20000000000000000',
      paid: '30000000000000000',
      lanes: 3,
      settlingAt: null
    }
  ]
}

test('/api/v1/stats has no payments block when paid retrievals are off', async () => {
  const app = createAdminApp({ stats: idle }, { token: () => TOKEN })
  const body = await (await app.request('/api/v1/stats', auth)).json()
  assert.equal('payments' in body, false)
})

test("/api/v1/stats carries the payment manager's summary: spend today, the daily cap, each channel", async () => {
  const app = createAdminApp({ stats: idle, payments: { summary: async () => SUMMARY } }, { token: () => TOKEN })
  const body = await (await app.request('/api/v1/stats', auth)).json()
  assert.deepEqual(body.payments, SUMMARY)
  assert.equal(body.uptimeSeconds, 1, 'beside the other counters')
})

test('a payment manager that fails or does not answer makes an error in the block, not a failed stats answer', async () => {
  const failing = createAdminApp(
    {
      stats: idle,
      payments: {
        summary: async () => {
          throw new Error('database unavailable')
        }
      }
    },
    { token: () => TOKEN }
  )
  const res = await failing.request('/api/v1/stats', auth)
  assert.equal(res.status, 200)
  assert.deepEqual((await res.json()).payments, { error: 'payments summary unavailable: database unavailable' })
  // One that never answers is given up on, so the stats (and the console's stream) go on.
  const stuck = paymentsReader({ summary: () => new Promise(() => {}) }, 50)
  assert.deepEqual(await stuck(), { error: 'payments summary unavailable: no answer within 50 ms' })
})

test('reads that overlap share one summary call', async () => {
  let calls = 0
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const app = createAdminApp(
    {
      stats: idle,
      payments: {
        summary: async () => {
          calls++
          await gate
          return SUMMARY
        }
      }
    },
    { token: () => TOKEN }
  )
  const reads = [app.request('/api/v1/stats', auth), app.request('/api/v1/stats', auth)]
  release()
  const bodies = await Promise.all(reads.map(async (r) => (await r).json()))
  assert.equal(calls, 1)
  for (const b of bodies) assert.deepEqual(b.payments, SUMMARY)
})
