import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { test } from 'node:test'
import { createAdminApp, listenAdmin, type PolicyApi, type PolicyView, type StatsSnapshot } from '@autoretrieve/admin'
import type { PaymentsSummary } from '@autoretrieve/paych'
import { createStore, type RecordEvent } from '@autoretrieve/store'
import { launch, watchErrors, wrapped } from './browser.ts'

const WAIT = { timeout: 15_000 }
/** Where the screenshot goes when asked (`CONSOLE_SCREENSHOT_DIR=docs/console`); else nowhere. */
const SHOTS = process.env.CONSOLE_SCREENSHOT_DIR
const TOKEN = 'console-cost-token'
const PAID_ROOT = 'bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm'
const FREE_ROOT = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const CHANNEL = 'f2kqpfkl2ff2ef6bbw7x4ubfdkhz5ig7jl5d6rmya'
const PROVIDER = '12D3KooWPaidProviderPaidProviderPaidProvider'

/** A node's counters with nothing else going on. */
const idle = (): StatsSnapshot => ({
  uptimeSeconds: 60,
  policyVersion: 1,
  peers: 1,
  wants: 0,
  wantsReceived: 2,
  hits: 0,
  misses: 2,
  blocksSent: 0,
  haves: 0,
  dontHaves: 0,
  retrievals: { active: 0, succeeded: 2, failed: 0, byOutcome: { success: 2 } },
  bytes: { in: 2048, out: 2048 },
  ttfb: { count: 2, totalMs: 40, lastMs: 20 },
  cache: { blocks: 2, bytes: 2048, diskBytes: 4096, pruneThresholdBytes: 0 },
  records: { buffered: 0, written: 8, dropped: 0 },
  heartbeat: { state: 'disabled', lastSuccessAt: null, lastError: null },
  startedAt: new Date().toISOString()
})

/** An empty policy at version 1: the console reads it beside the stats. */
const emptyPolicy: PolicyApi = {
  current: () =>
    ({
      version: 1,
      deniedCids: new Map(),
      deniedProviders: new Map(),
      allowedProviders: new Map(),
      defaultMinerConfig: { retrievalTimeoutMs: 60_000, maxConcurrentRetrievals: 4, maxBytesPerSecond: 0 },
      minerConfigs: new Map(),
      retrievalProtocols: new Set(['graphsync'])
    }) as PolicyView,
  apply: async () => {
    throw new Error('read-only in this test')
  },
  reload: async () => {
    throw new Error('read-only in this test')
  }
}

/** A paid retrieval (a failed attempt paid 7 attoFIL, the successful one 1.5 mFIL) and a free one. */
function history(): RecordEvent[] {
  const at = new Date(Date.now() - 5000)
  const paid = randomUUID()
  const free = randomUUID()
  const attempt = (retrievalId: string, over: object) =>
    ({
      type: 'attempt',
      id: randomUUID(),
      retrievalId,
      provider: PROVIDER,
      protocol: 'graphsync',
      startedAt: at,
      connectedAt: at,
      firstByteAt: new Date(at.getTime() + 20),
      endedAt: new Date(at.getTime() + 400),
      bytes: 1024,
      blocks: 1,
      outcome: 'success',
      errorClass: null,
      errorMessage: null,
      ...over
    }) as RecordEvent
  const started = (id: string, root: string) =>
    ({
      type: 'retrieval-started',
      id,
      rootCid: root,
      requestedCid: root,
      requestedBy: ['12D3KooWclient'],
      policyVersion: 1,
      at
    }) as RecordEvent
  return [
    started(paid, PAID_ROOT),
    attempt(paid, {
      provider: '12D3KooWGreedyProvider',
      outcome: 'failed',
      bytes: 0,
      blocks: 0,
      errorClass: 'overcharged',
      errorMessage: 'asked for 9 attoFIL where 7 were owed',
      cost: '7',
      paymentChannel: 'f2greedychannel'
    }),
    attempt(paid, { startedAt: new Date(at.getTime() + 1), cost: '1500000000000000', paymentChannel: CHANNEL }),
    {
      type: 'retrieval-finished',
      id: paid,
      status: 'success',
      reason: null,
      bytes: 1024,
      blocks: 1,
      cost: '1500000000000007',
      at: new Date(at.getTime() + 400)
    },
    started(free, FREE_ROOT),
    attempt(free, { protocol: 'http' }),
    {
      type: 'retrieval-finished',
      id: free,
      status: 'success',
      reason: null,
      bytes: 1024,
      blocks: 1,
      at: new Date(at.getTime() + 400)
    }
  ]
}

test('the console shows spend today against the daily cap, each channel, what each retrieval paid and why, on one screen', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const store = await createStore({})
  t.after(() => store.close())
  await store.retrievals.write(history())

  // What the payment manager reports; the test changes it as a node's spend would change.
  let summary: PaymentsSummary | Error = {
    spentToday: '30000000000000000',
    maxSpendPerDay: '100000000000000000',
    channels: [
      {
        address: CHANNEL,
        from: 'f1payer',
        to: 'f1provider',
        balance: '20000000000000000',
        paid: '30000000000000000',
        lanes: 3,
        settlingAt: null
      },
      {
        address: 'f2secondchannelsecondchannel',
        from: 'f1payer',
        to: 'f1other',
        balance: '10000000000000000',
        paid: '0',
        lanes: 0,
        settlingAt: 1200
      }
    ]
  }
  const app = createAdminApp(
    {
      stats: idle,
      payments: {
        summary: async () => {
          if (summary instanceof Error) throw summary
          return summary
        }
      },
      policy: emptyPolicy,
      retrievals: {
        history: store.retrievals,
        now: { isDenied: () => false, isCached: async () => true, policyVersion: () => 1 }
      }
    },
    { token: () => TOKEN }
  )
  const server = await listenAdmin(app, { host: '127.0.0.1', port: 0 })
  t.after(() => server.close())

  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  const { errors } = watchErrors(page)
  await page.goto(`${server.url}/#token=${TOKEN}`)
  await page.waitForFunction(() => document.getElementById('stream-state')?.dataset.state === 'live', null, WAIT)

  // Spend today against max-spend-per-day, with a bar; the exact amounts in the title.
  await page.waitForFunction(() => document.getElementById('n-spend')?.textContent === '30 mFIL / 100 mFIL', null, WAIT)
  assert.equal(await page.locator('#t-spend').isVisible(), true)
  assert.equal(await page.evaluate(() => document.getElementById('spend-bar')?.style.width), '30%')
  assert.equal(await page.getAttribute('#n-spend', 'title'), 'spent today (UTC): 0.03 FIL; max-spend-per-day 0.1 FIL')
  // Each channel: balance, paid, lanes; settling said so; the whole story in the title.
  const channels = (await page.textContent('#n-channels')) ?? ''
  assert.match(channels, /f2kqp…6rmya 20 mFIL · 30 mFIL · 3/)
  assert.match(channels, /f2sec…annel 10 mFIL · 0 FIL · 0 \(settling\)/)
  const channelTitle = (await page.getAttribute('#n-channels', 'title')) ?? ''
  assert.match(
    channelTitle,
    new RegExp(`${CHANNEL} from f1payer to f1provider: balance 0\\.02 FIL, paid 0\\.03 FIL, 3 lanes`)
  )
  assert.match(channelTitle, /settling at epoch 1200/)

  // The retrievals table: a cost column, '–' for the free one, the exact amount in the title.
  const paidRow = page.locator(`#retrievals tbody tr:has(td[title="${PAID_ROOT}"])`)
  await paidRow.waitFor(WAIT)
  const costCell = paidRow.locator('td').nth(7)
  assert.equal(await costCell.textContent(), '1.5 mFIL')
  assert.equal(await costCell.getAttribute('title'), '1500000000000007 attoFIL = 0.001500000000000007 FIL')
  const freeRow = page.locator(`#retrievals tbody tr:has(td[title="${FREE_ROOT}"])`)
  assert.equal(await freeRow.locator('td').nth(7).textContent(), '–')

  // Why: what the retrieval paid, and each attempt on which channel.
  await paidRow.locator('button:text("Why")').click()
  await page.waitForFunction(() => /paying/.test(document.getElementById('why-body')?.textContent ?? ''), null, WAIT)
  const lines = await page.locator('#why-body p').allTextContents()
  const has = (re: RegExp) =>
    assert.ok(
      lines.some((l) => re.test(l)),
      `${re} in:\n${lines.join('\n')}`
    )
  has(/ succeeded: 1\.0 kB in 1 blocks, 400 ms, paying 1\.5 mFIL \(1500000000000007 attoFIL\)\.$/)
  has(
    /^graphsync from .*: failed — the provider asked for more than the bytes it sent were worth at its price \(overcharged\): asked for 9 attoFIL where 7 were owed; paid 7 aFIL \(7 attoFIL\) on channel f2greedychannel\.$/
  )
  has(
    /^graphsync from .*: succeeded, 1\.0 kB, first byte after \d+ ms; paid 1\.5 mFIL \(1500000000000000 attoFIL\) on channel f2kqp.*\.$/
  )

  // One screen at 1400×1000 with the payments row: nothing wraps, nothing overflows sideways.
  if (SHOTS !== undefined) await page.screenshot({ path: join(SHOTS, 'console-payments-1400x1000.png') })
  const fit = await page.evaluate(() => ({
    height: document.documentElement.scrollHeight,
    width: document.documentElement.scrollWidth
  }))
  assert.ok(fit.height <= 1000 + 8, `page is ${fit.height} px tall at 1000`)
  assert.ok(fit.width <= 1400, `page is ${fit.width} px wide at 1400`)
  assert.deepEqual(await wrapped(page), [], 'no label, button or header wraps')
  // Narrow: the payments row takes the full width, nothing overflows sideways or wraps.
  await page.setViewportSize({ width: 800, height: 1000 })
  await page.waitForFunction(() => document.documentElement.scrollWidth <= 800, null, WAIT)
  assert.deepEqual(await wrapped(page), [], 'nothing wraps at 800 px either')
  await page.setViewportSize({ width: 1400, height: 1000 })

  // A manager that cannot be read: the row says so instead of showing stale numbers.
  summary = new Error('database unavailable')
  await page.waitForFunction(() => document.getElementById('n-spend')?.textContent === 'unavailable', null, WAIT)
  assert.match((await page.textContent('#n-channels')) ?? '', /payments summary unavailable: database unavailable/)
  assert.deepEqual(errors, [])
})
