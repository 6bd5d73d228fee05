import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { createUnixfsFixture, startIndexer, startProvider } from '@autoretrieve/testkit'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Page } from 'playwright-core'
import { launch, watchErrors, wrapped } from './browser.ts'
import {
  adminApi,
  catFile,
  cliEnv,
  type DaemonHandle,
  heliaClient,
  scratchDatabase,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

/** Where the screenshots go when asked (`CONSOLE_SCREENSHOT_DIR=docs/console`); else nowhere. */
const SHOTS = process.env.CONSOLE_SCREENSHOT_DIR
const WAIT = { timeout: 15_000 }

/** A free loopback port (so a node can be restarted at the same admin address). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** A CIDv1 raw leaf over `n`: CIDs nobody holds, to fill the deny list. */
async function cidOf(n: number): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(`console-${n}`))).toString()
}

const policyOf = async (node: DaemonHandle) =>
  (
    await adminApi<{
      version: number
      cidBlacklist: Array<{ cid: string; reason?: string }>
      minerBlacklist: Array<{ provider: string; reason?: string }>
      minerWhitelist: Array<{ provider: string; reason?: string }>
      minerConfigs: Record<string, Record<string, unknown>>
    }>(node, 'GET', '/api/v1/policy')
  ).body

const rowCount = (page: Page, table: string) => page.locator(`${table} tbody tr`).count()

test('the console: live panels, plots, every editor with a second instance changing policy underneath, retrievals with why, reconnect, narrow layout, no console errors', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return

  // A provider that holds one file, an indexer that names it for that file only: one retrieval
  // succeeds over HTTP, a want for anything else fails with no candidates.
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 100_000, seed: 61 })
  const provider = await startProvider({ cars: [fixture.car], protocols: ['http'] })
  t.after(() => provider.close())
  const indexer = await startIndexer({
    providers: [
      {
        peerId: provider.peerId,
        addrs: [provider.httpMultiaddr!],
        protocols: ['http'],
        cids: [fixture.root.toString()]
      }
    ]
  })
  t.after(() => indexer.close())

  const adminPort = await freePort()
  const firstDir = await tempDataDir(t)
  // The prune-threshold the cache-fill panel measures against (a config.yaml key only).
  await mkdir(firstDir, { recursive: true })
  await writeFile(join(firstDir, 'config.yaml'), 'prune-threshold: 64MiB\n')
  const firstEnv = cliEnv({
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url,
    AUTORETRIEVE_PRUNE_THRESHOLD: '64MiB',
    AUTORETRIEVE_ADMIN_LISTEN: `127.0.0.1:${adminPort}`
  })
  let first = await startDaemon(t, firstDir, firstEnv)
  const second = await startDaemon(
    t,
    await tempDataDir(t),
    cliEnv({ AUTORETRIEVE_DATABASE_URL: databaseUrl, AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' })
  )

  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } })
  const page = await context.newPage()
  const { errors, state } = watchErrors(page)
  const notFound: string[] = []
  page.on('response', (r) => {
    if (r.status() === 404) notFound.push(r.url())
  })

  // Access: the token from the fragment, kept for the tab and taken off the address bar.
  await page.goto(`${first.adminUrl}/#token=${encodeURIComponent(first.token)}`)
  await page.waitForFunction(() => document.getElementById('stream-state')?.dataset.state === 'live', null, WAIT)
  assert.equal(new URL(page.url()).hash, '', 'the token left the address bar')
  assert.equal(await page.locator('#t-spend').isHidden(), true, 'no payments row: paid retrievals are off')
  assert.equal(await page.evaluate(() => sessionStorage.getItem('autoretrieve-token')), first.token)
  assert.equal(await page.locator('#login').isHidden(), true)

  // Traffic: a Helia client reads the file (a miss, retrieved from the provider, then served) and
  // asks for a CID nobody has (a miss whose retrieval fails).
  const helia = await heliaClient(t, first.multiaddrs)
  assert.deepEqual(await catFile(helia, fixture.root), Buffer.from(fixture.bytes))
  const nobody = await createUnixfsFixture({ size: 10_000, chunkSize: 10_000, seed: 62 })
  await assert.rejects(catFile(helia, nobody.root, 3_000))

  // Live panels.
  const num = (id: string) => page.evaluate((i) => document.getElementById(i)?.textContent ?? '', id)
  await page.waitForFunction(
    () => /success \d/.test(document.getElementById('n-outcomes')?.textContent ?? ''),
    null,
    WAIT
  )
  await page.waitForFunction(
    () => /no candidates \d/.test(document.getElementById('n-outcomes')?.textContent ?? ''),
    null,
    WAIT
  )
  assert.ok(Number((await num('n-wants')).replaceAll(',', '')) >= fixture.blocks.length)
  assert.ok(Number((await num('n-misses')).replaceAll(',', '')) >= 1)
  assert.ok(Number((await num('n-peers')).replaceAll(',', '')) >= 1)
  assert.equal(await num('n-active'), '0')
  assert.match(await num('n-in'), /^[\d.]+ kB$/, 'bytes in: the file came from the provider')
  assert.match(await num('n-out'), /^[\d.]+ kB$/, 'bytes out: the file went to the client')
  assert.match(await num('n-ttfb'), /^(\d+ ms|[\d.]+ s) \/ (\d+ ms|[\d.]+ s)$/)
  assert.match(await num('n-cache'), /^[\d.]+ kB \/ 67\.1 MB$/, 'cache fill against the prune-threshold')
  assert.match(await num('n-heartbeat'), /^disabled/)
  assert.match(await num('n-uptime'), /^\d+s|^\d+m/)
  const version0 = (await policyOf(first)).version
  assert.equal(await num('n-policy'), `v${version0}`)

  // Plots: four uPlot charts, each with time and value axes and a legend naming the series with units.
  assert.equal(await page.locator('.uplot').count(), 4)
  for (const id of ['plot-bitswap', 'plot-retrievals', 'plot-bytes', 'plot-ttfb']) {
    assert.ok((await page.locator(`#${id} .u-axis`).count()) >= 2, `${id} has axes`)
  }
  const legends = await page.locator('.u-legend').allTextContents()
  for (const label of [
    'wants/s',
    'hits/s',
    'misses/s',
    'active',
    'ok/s',
    'failed/s',
    'in (B/s)',
    'out (B/s)',
    'mean TTFB (ms)'
  ])
    assert.ok(
      legends.some((l) => l.includes(label)),
      `legend ${label} in ${legends}`
    )

  // Retrievals: time, root, provider, protocol, bytes, duration, outcome.
  await page.waitForFunction(
    (root) => document.querySelector(`#retrievals tbody td[title="${root}"]`) !== null,
    fixture.root.toString(),
    WAIT
  )
  const ok = page.locator(`#retrievals tbody tr:has(td[title="${fixture.root}"])`).first()
  const cells = await ok.locator('td').allTextContents()
  assert.match(cells[0], /^\d\d:\d\d:\d\d$/)
  assert.equal(await ok.locator('td').nth(1).getAttribute('title'), fixture.root.toString())
  assert.equal(cells[1], `${fixture.root.toString().slice(0, 7)}…${fixture.root.toString().slice(-7)}`)
  await until(
    'the provider on the row',
    () => ok.locator('td').nth(2).getAttribute('title'),
    (s) => s === provider.peerId
  )
  assert.equal(await ok.locator('td').nth(3).textContent(), 'http')
  assert.match(cells[4], /kB$/)
  assert.match(cells[5], /\d+ ms|\d+\.\d s/)
  assert.equal(cells[6], 'success')
  // Why: sentences, not JSON.
  await ok.locator('button:text("Why")').click()
  await page.waitForFunction(() => /succeeded/.test(document.getElementById('why-body')?.textContent ?? ''), null, WAIT)
  const why = (await page.locator('#why-body').textContent()) ?? ''
  assert.match(why, /is not denied at policy version \d+\./)
  assert.match(why, /A copy is in this node’s cache\./)
  assert.match(why, /http from .*: succeeded, [\d.]+ kB, first byte after (\d+ ms|[\d.]+ s)\./)
  assert.doesNotMatch(why, /[{}"]/, 'no raw JSON')
  // The failed one: filter by outcome, then ask why.
  await page.selectOption('#f-status', 'failed')
  await page.waitForFunction(
    () => {
      const rows = Array.from(document.querySelectorAll('#retrievals tbody tr'))
      return rows.length > 0 && rows.every((r) => r.querySelector('td:nth-child(7)')?.textContent === 'no candidates')
    },
    null,
    WAIT
  )
  await page.locator('#retrievals tbody tr button:text("Why")').first().click()
  await page.waitForFunction(
    () =>
      /failed — the indexer knew no provider for it \(no_candidates\)/.test(
        document.getElementById('why-body')?.textContent ?? ''
      ),
    null,
    WAIT
  )
  await page.fill('#f-cid', fixture.root.toString())
  await page.selectOption('#f-status', '')
  await page.waitForFunction(
    (root) => {
      const rows = Array.from(document.querySelectorAll('#retrievals tbody tr'))
      return rows.length === 1 && rows[0].querySelector(`td[title="${root}"]`) !== null
    },
    fixture.root.toString(),
    WAIT
  )
  await page.fill('#f-cid', '')
  await page.click('#retrieval-filters button[type=submit]')

  // CID deny list: 45 entries made by the second instance appear here through the stream.
  const many = await Promise.all(Array.from({ length: 45 }, (_, i) => cidOf(i)))
  assert.equal(
    (await adminApi(second, 'POST', '/api/v1/blacklist/cids', { cids: many, reason: 'bulk from the second node' }))
      .status,
    201
  )
  await page.waitForFunction(() => document.getElementById('count-cid-deny')?.textContent === '45', null, WAIT)
  assert.equal(await rowCount(page, '#list-table'), 20, 'a page of 20')
  assert.equal(await page.textContent('#list-page'), '1–20 of 45')
  await page.click('#list-pager button[data-dir="1"]')
  await page.click('#list-pager button[data-dir="1"]')
  assert.equal(await page.textContent('#list-page'), '41–45 of 45')
  assert.equal(await rowCount(page, '#list-table'), 5)
  assert.match((await page.locator('#list-table tbody tr').first().textContent()) ?? '', /bulk from the second node/)

  // Fit at 1400×1000 with 45 denied CIDs: one screen, nothing wraps, nothing overflows sideways.
  await page.click('#list-pager button[data-dir="-1"]')
  await page.click('#list-pager button[data-dir="-1"]')
  if (SHOTS !== undefined) {
    await mkdir(SHOTS, { recursive: true })
    await page.screenshot({ path: join(SHOTS, 'console-1400x1000.png') })
  }
  const fit = await page.evaluate(() => ({
    height: document.documentElement.scrollHeight,
    width: document.documentElement.scrollWidth
  }))
  assert.ok(fit.height <= 1000 + 8, `page is ${fit.height} px tall at 1000`)
  assert.ok(fit.width <= 1400, `page is ${fit.width} px wide at 1400`)
  assert.deepEqual(await wrapped(page), [], 'no label, button or header wraps')
  const clipped = await page.evaluate(() =>
    Array.from(document.querySelectorAll('.tabs, .panel-head, .toolbar, header'))
      .filter((e) => e.scrollWidth > e.clientWidth + 1)
      .map((e) => e.className || e.tagName)
  )
  assert.deepEqual(clipped, [], 'no bar is cut off at 1400 px')

  // Search, add with a reason (seen by the second node), remove (seen too), and a removal made there followed here.
  await page.fill('#list-search', many[7].slice(-10))
  await page.waitForFunction(() => document.querySelectorAll('#list-table tbody tr').length === 1, null, WAIT)
  assert.equal(await page.textContent('#list-page'), '1–1 of 1')
  await page.fill('#list-search', '')
  await page.fill('#list-value', nobody.root.toString())
  await page.fill('#list-reason', 'operator: takedown 42')
  await page.click('#list-add-button')
  await until(
    'the page’s deny on the second node',
    () => policyOf(second),
    (p) => p.cidBlacklist.some((e) => e.cid === nobody.root.toString() && e.reason === 'operator: takedown 42')
  )
  await page.waitForFunction(() => document.getElementById('count-cid-deny')?.textContent === '46', null, WAIT)
  await page.fill('#list-search', nobody.root.toString())
  await page.click(`#list-table tr[data-value="${nobody.root}"] button:text("Remove")`)
  await until(
    'the page’s removal on the second node',
    () => policyOf(second),
    (p) => !p.cidBlacklist.some((e) => e.cid === nobody.root.toString())
  )
  await page.fill('#list-search', '')
  assert.equal((await adminApi(second, 'DELETE', `/api/v1/blacklist/cids/${many[0]}`)).status, 200)
  await page.waitForFunction(() => document.getElementById('count-cid-deny')?.textContent === '44', null, WAIT)
  assert.equal(await page.locator(`#list-table tr[data-value="${many[0]}"]`).count(), 0)
  // A bad value is refused with the API's reason, in the editor.
  await page.fill('#list-value', 'not-a-cid')
  await page.click('#list-add-button')
  await page.waitForFunction(
    () => /not a CID/.test(document.getElementById('list-error')?.textContent ?? ''),
    null,
    WAIT
  )
  await page.fill('#list-value', '')

  // Provider deny: added here with a reason; provider allow: added by the second node, removed here.
  await page.click('.tabs button[data-tab="provider-deny"]')
  assert.equal(await page.textContent('#list-add-button'), 'Deny')
  await page.fill('#list-value', 'f01234')
  await page.fill('#list-reason', 'serves bad blocks')
  await page.click('#list-add-button')
  await until(
    'the provider deny on the second node',
    () => policyOf(second),
    (p) => p.minerBlacklist.some((e) => e.provider === 'f01234' && e.reason === 'serves bad blocks')
  )
  await page.waitForSelector('#list-table tr[data-value="f01234"]', WAIT)
  assert.equal(
    (await adminApi(second, 'POST', '/api/v1/whitelist/miners', { miner: 'f05678', reason: 'trusted' })).status,
    201
  )
  await page.click('.tabs button[data-tab="provider-allow"]')
  assert.equal(await page.textContent('#list-add-button'), 'Allow')
  await page.waitForSelector('#list-table tr[data-value="f05678"]', WAIT)
  assert.match((await page.textContent('#list-table tr[data-value="f05678"]')) ?? '', /trusted/)
  await page.click('#list-table tr[data-value="f05678"] button:text("Remove")')
  await until(
    'the allow removed on the second node',
    () => policyOf(second),
    (p) => p.minerWhitelist.length === 0
  )
  await page.waitForFunction(() => document.getElementById('count-provider-allow')?.textContent === '0', null, WAIT)

  // Miner configs: one set by the second node shows with the defaults beside it; a field edited
  // here reaches the second node; reset removes it.
  assert.equal(
    (await adminApi(second, 'PUT', '/api/v1/miner-configs/f09999', { 'max-concurrent-retrievals': 3 })).status,
    200
  )
  await page.click('.tabs button[data-tab="miner-configs"]')
  await page.waitForSelector('#miner-table tr[data-provider="f09999"]', WAIT)
  const row = page.locator('#miner-table tr[data-provider="f09999"]')
  assert.equal(await row.locator('input[data-field="max-concurrent-retrievals"]').inputValue(), '3')
  const timeout = row.locator('input[data-field="retrieval-timeout"]')
  assert.equal(await timeout.inputValue(), '', 'a field left to the default is empty…')
  const defaultTimeout = await page
    .locator('#miner-table tr[data-provider="default"] input[data-field="retrieval-timeout"]')
    .inputValue()
  assert.equal(await timeout.getAttribute('placeholder'), `default ${defaultTimeout}`, '…and shows the default')
  await timeout.fill('45s')
  await row.locator('button:text("Save")').click()
  await until(
    'the edited miner config on the second node',
    () => policyOf(second),
    (p) =>
      p.minerConfigs.f09999?.['retrieval-timeout'] === '45s' &&
      p.minerConfigs.f09999?.['max-concurrent-retrievals'] === 3
  )
  await page.fill('#miner-provider', 'f07777')
  await page.click('#miner-add button[type=submit]')
  await until(
    'a new miner config on the second node',
    () => policyOf(second),
    (p) => p.minerConfigs.f07777 !== undefined
  )
  await page.waitForSelector('#miner-table tr[data-provider="f07777"]', WAIT)
  await page.fill('#miner-search', 'f0999')
  await page.waitForFunction(() => document.querySelectorAll('#miner-table tbody tr').length === 2, null, WAIT) // default + match
  await page.fill('#miner-search', '')
  await page.locator('#miner-table tr[data-provider="f07777"] button:text("Reset")').click()
  await until(
    'the reset on the second node',
    () => policyOf(second),
    (p) => p.minerConfigs.f07777 === undefined
  )
  const versionNow = (await policyOf(second)).version
  await page.waitForFunction((v) => document.getElementById('h-policy')?.textContent === `v${v}`, versionNow, WAIT)

  // Explain a denied CID from the why box.
  await page.fill('#why-cid', many[3])
  await page.click('#why-form button[type=submit]')
  await page.waitForFunction(
    () => /is denied now at policy version/.test(document.getElementById('why-body')?.textContent ?? ''),
    null,
    WAIT
  )
  assert.match(
    (await page.textContent('#why-body')) ?? '',
    /It matches the (CID|cid) deny entry .*, from api(, added by instance .*)?: “bulk from the second node” \(policy version \d+\)\./
  )

  // Liveness: the stream drops when the node stops, the page says it is reconnecting, and it is
  // live again once the node is back at the same address.
  await page.click('.tabs button[data-tab="cid-deny"]')
  state.expected = /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_INCOMPLETE_CHUNKED_ENCODING|Failed to load resource/
  await first.stop('SIGTERM')
  await page.waitForFunction(
    () => /reconnecting in \d+s/.test(document.getElementById('stream-state')?.textContent ?? ''),
    null,
    WAIT
  )
  // While it is down, the second node changes policy: the page catches up when it is back.
  assert.equal(
    (await adminApi(second, 'POST', '/api/v1/blacklist/cids', { cid: many[0], reason: 'again' })).status,
    201
  )
  first = await startDaemon(t, firstDir, firstEnv)
  await page.waitForFunction(() => document.getElementById('stream-state')?.dataset.state === 'live', null, {
    timeout: 40_000
  })
  state.expected = null
  await page.waitForFunction(() => document.getElementById('count-cid-deny')?.textContent === '45', null, WAIT)

  // Narrow: 800 px wide, no sideways scroll, the header stays on top, the editors still work.
  await page.setViewportSize({ width: 800, height: 1000 })
  await page.waitForTimeout(300)
  const narrow = await page.evaluate(() => ({ width: document.documentElement.scrollWidth }))
  assert.ok(narrow.width <= 800, `page is ${narrow.width} px wide at 800`)
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight))
  const header = await page.locator('header').boundingBox()
  assert.equal(Math.round(header?.y ?? -1), 0, 'the header stays at the top')
  assert.ok(await page.locator('#stream-state').isVisible())
  assert.deepEqual(await wrapped(page), [], 'nothing wraps at 800 px either')
  await page.fill('#list-search', many[0])
  await page.evaluate(() => window.scrollTo(0, 0))
  if (SHOTS !== undefined) await page.screenshot({ path: join(SHOTS, 'console-800.png'), fullPage: true })
  await page.locator(`#list-table tr[data-value="${many[0]}"] button:text("Remove")`).click()
  await page.waitForFunction(() => document.getElementById('count-cid-deny')?.textContent === '44', null, WAIT)

  // The favicon is served (no 404 anywhere), and nothing logged an error.
  const icon = await fetch(`${first.adminUrl}/favicon.ico`)
  assert.equal(icon.status, 200)
  assert.equal(icon.headers.get('content-type'), 'image/svg+xml')
  assert.deepEqual(notFound, [])
  assert.deepEqual(errors, [])
})

test('the console asks for the token when there is none, says when one is refused, connects with the right one; its why panel reads the richer explain shape (the rule, instances, new error classes)', async (t) => {
  const browser = await launch(t)
  if (browser === undefined) return
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  const node = await startDaemon(
    t,
    await tempDataDir(t),
    cliEnv({ AUTORETRIEVE_DATABASE_URL: databaseUrl, AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' })
  )
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  const { errors, state } = watchErrors(page)
  // A refused token is a 401, which Chromium logs as a failed load: the only error allowed here.
  state.expected = /status of 401/
  await page.goto(`${node.adminUrl}/`)
  await page.waitForSelector('#login', { state: 'visible', ...WAIT })
  assert.equal(await page.textContent('#stream-state'), 'not connected')
  await page.fill('#token', 'wrong')
  await page.click('#connect')
  await page.waitForFunction(
    () => /refused/.test(document.getElementById('login-error')?.textContent ?? ''),
    null,
    WAIT
  )
  assert.equal(await page.locator('#login').isVisible(), true)
  await page.fill('#token', node.token)
  await page.click('#connect')
  await page.waitForFunction(() => document.getElementById('stream-state')?.dataset.state === 'live', null, WAIT)
  assert.equal(await page.locator('#login').isHidden(), true)
  assert.ok(state.let.length >= 1, 'the refused token was a 401')
  assert.deepEqual(errors, [])

  // The why panel reads explain answers richer than today's: the rule with its origin, who and
  // when, the instance, and error classes other parts add later.
  const page2 = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  const richer = watchErrors(page2)
  const cid = await cidOf(1)
  // The shape the policy-plane work adds (the matched rule with where and by whom it was added,
  // instance names, new error classes); the node under test may answer an older one, so this one
  // answer is handed to the page as that work's API gives it.
  await page2.route('**/api/v1/cids/*/explain', (route) =>
    route.fulfill({
      contentType: 'application/json',
      body: JSON.stringify({
        cid,
        policyVersion: 7,
        instance: 'edge-b',
        deniedNow: true,
        rule: {
          list: 'cid-deny',
          value: cid,
          origin: 'config',
          reason: 'court order 12',
          added: { version: 5, instance: 'edge-a', at: '2026-12-01T10:00:00Z', file: '/etc/autoretrieve/config.yaml' }
        },
        cachedNow: false,
        retrievals: [
          {
            id: '00000000-0000-4000-8000-000000000001',
            rootCid: cid,
            status: 'failed',
            reason: 'retrieval_failed',
            instance: 'edge-a',
            bytes: 0,
            blocks: 0,
            requestedBy: [],
            startedAt: '2026-12-01T09:00:00Z',
            endedAt: '2026-12-01T09:00:02Z',
            candidates: [],
            attempts: [
              {
                provider: 'f01000',
                protocol: 'http',
                outcome: 'failed',
                errorClass: 'rate_limited',
                bytes: 0,
                startedAt: '2026-12-01T09:00:00Z'
              },
              {
                provider: 'f02000',
                protocol: 'bitswap',
                outcome: 'failed',
                errorClass: 'block_too_large',
                errorMessage: 'block over 2 MiB',
                bytes: 0,
                startedAt: '2026-12-01T09:00:01Z'
              },
              {
                provider: 'f03000',
                protocol: 'graphsync',
                outcome: 'failed',
                errorClass: 'indexer_failed',
                bytes: 0,
                startedAt: '2026-12-01T09:00:01Z'
              },
              {
                provider: 'f04000',
                protocol: 'http',
                outcome: 'failed',
                errorClass: 'some_future_class',
                bytes: 0,
                startedAt: '2026-12-01T09:00:01Z'
              }
            ]
          }
        ],
        refusals: [
          {
            peer: '12D3KooWPeer',
            reason: 'blacklisted_cid',
            policyVersion: 7,
            instance: 'edge-b',
            at: '2026-12-01T11:00:00Z'
          }
        ],
        summary: ['Denied by the cid-deny entry …']
      })
    })
  )
  await page2.goto(`${node.adminUrl}/#token=${node.token}`)
  await page2.waitForFunction(() => document.getElementById('stream-state')?.dataset.state === 'live', null, WAIT)
  await page2.fill('#why-cid', cid)
  await page2.click('#why-form button[type=submit]')
  await page2.waitForFunction(() => /edge-b/.test(document.getElementById('why-body')?.textContent ?? ''), null, WAIT)
  const lines = await page2.locator('#why-body p').allTextContents()
  const has = (re: RegExp) =>
    assert.ok(
      lines.some((l) => re.test(l)),
      `${re} in:\n${lines.join('\n')}`
    )
  has(/ is denied now at policy version 7\.$/)
  has(
    /^It matches the cid deny entry .*, from config \(\/etc\/autoretrieve\/config\.yaml\), added by instance edge-a at .*2026.*: “court order 12” \(policy version 5\)\.$/
  )
  has(/^Answered by instance edge-b\.$/)
  has(/^Retrieval at .* on edge-a failed — every attempt failed \(retrieval_failed\) after 2\.0 s\.$/)
  has(/^http from f01000: failed — the provider turned it away for asking too often \(rate_limited\)\.$/)
  has(/^bitswap from f02000: failed — a block was over the size limit \(block_too_large\): block over 2 MiB\.$/)
  has(/^graphsync from f03000: failed — the indexer could not be asked .*\(indexer_failed\)\.$/)
  has(/^http from f04000: failed — some future class \(some_future_class\)\.$/)
  has(/^Refused to peer .* by edge-b: the CID is on the deny list \(blacklisted_cid, policy version 7\)\.$/)
  assert.deepEqual(richer.errors, [])
})
