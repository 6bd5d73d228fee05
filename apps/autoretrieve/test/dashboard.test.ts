import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { createHeliaPeer, createUnixfsFixture } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import { chromium } from 'playwright-core'
import {
  cliEnv,
  explain,
  importCarViaNode,
  missingService,
  refusalReasons,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

const CHROMIUM = '/usr/bin/chromium'

test('the dashboard shows live numbers while a Helia client fetches, and denies a CID from the page', async (t) => {
  if (!existsSync(CHROMIUM))
    return missingService(
      t,
      `${CHROMIUM} is not installed`,
      "Install Debian's chromium (`apt-get install chromium`; `npm test` does it when run as root)"
    )
  const node = await startDaemon(t, await tempDataDir(t), cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' }))
  const fixture = await createUnixfsFixture({ size: 1_000_000, chunkSize: 100_000, seed: 51 })
  await importCarViaNode(node, fixture.car)

  let browser: Awaited<ReturnType<typeof chromium.launch>>
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    })
  } catch (err) {
    return missingService(
      t,
      `Chromium could not start: ${(err as Error).message.split('\n')[0]}`,
      `Check that ${CHROMIUM} runs headless here`
    )
  }
  t.after(() => browser.close())
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(`${node.adminUrl}/`)
  await page.fill('#token', node.token)
  await page.click('#connect')
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live', null, { timeout: 10_000 })
  const wantsBefore = Number(await page.textContent('#n-wants'))

  const helia = await createHeliaPeer()
  t.after(() => helia.stop())
  await helia.libp2p.dial(multiaddr(node.multiaddrs.find((a) => !a.includes('/ws'))!))
  for await (const _ of unixfs(helia).cat(fixture.root, { signal: AbortSignal.timeout(20_000) })) {
    // drain
  }
  await page.waitForFunction(
    (before) => Number(document.getElementById('n-wants')?.textContent) > before,
    wantsBefore,
    { timeout: 10_000 }
  )
  assert.ok(Number(await page.textContent('#n-hits')) >= fixture.blocks.length)

  const other = await createUnixfsFixture({ size: 100_000, chunkSize: 50_000, seed: 52 })
  await importCarViaNode(node, other.car)
  await page.fill('#deny-cid', other.root.toString())
  await page.click('#deny-form button')
  await page.waitForSelector(`#deny-table td:text("${other.root}")`, { timeout: 5_000 })
  await page.screenshot({ path: `${process.env.DASHBOARD_SCREENSHOT ?? '/tmp/autoretrieve-dashboard.png'}` })
  const policy = await (
    await fetch(`${node.adminUrl}/api/v1/policy`, { headers: { Authorization: `Bearer ${node.token}` } })
  ).json()
  assert.ok(policy.cidBlacklist.some((e: { cid: string }) => e.cid === other.root.toString()))
  // The deny removed the cached copy; cached again (an import does not consult the deny list), the
  // block is kept from the client by the policy check alone, and the refusal names it.
  await until(
    'the denied block removed from the cache',
    () => explain(node, other.root),
    (e) => !e.cachedNow
  )
  await importCarViaNode(node, other.car)
  const now = await explain(node, other.root)
  assert.deepEqual([now.deniedNow, now.cachedNow], [true, true])
  const refused = (async () => {
    for await (const _ of unixfs(helia).cat(other.root, { signal: AbortSignal.timeout(2_000) })) {
      // drain
    }
  })()
  await assert.rejects(refused, 'the next want for the denied CID is refused')
  const reasons = await refusalReasons(node, other.root, helia.libp2p.peerId.toString())
  assert.deepEqual(new Set(reasons), new Set(['blacklisted_cid']))
  assert.deepEqual(errors, [])
})
