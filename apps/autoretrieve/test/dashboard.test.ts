import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { createHeliaPeer, createUnixfsFixture } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import { chromium } from 'playwright-core'
import { cliEnv, startDaemon, tempDataDir } from './helpers.ts'

const CHROMIUM = '/usr/bin/chromium'

test('the dashboard shows live numbers while a Helia client fetches, and denies a CID from the page', async (t) => {
  if (!existsSync(CHROMIUM))
    return t.skip(`${CHROMIUM} is not installed (the test setup installs Debian's chromium where it can)`)
  const node = await startDaemon(t, await tempDataDir(t), cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' }))
  const fixture = await createUnixfsFixture({ size: 1_000_000, chunkSize: 100_000, seed: 51 })
  const imported = await fetch(`${node.adminUrl}/api/v1/cache/import`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/vnd.ipld.car' },
    body: Buffer.from(fixture.car)
  })
  assert.equal(imported.status, 200)

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
    return t.skip(`Chromium could not start: ${(err as Error).message.split('\n')[0]}`)
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
  await fetch(`${node.adminUrl}/api/v1/cache/import`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/vnd.ipld.car' },
    body: Buffer.from(other.car)
  })
  await page.fill('#deny-cid', other.root.toString())
  await page.click('#deny-form button')
  await page.waitForSelector(`#deny-table td:text("${other.root}")`, { timeout: 5_000 })
  await page.screenshot({ path: `${process.env.DASHBOARD_SCREENSHOT ?? '/tmp/autoretrieve-dashboard.png'}` })
  const policy = await (
    await fetch(`${node.adminUrl}/api/v1/policy`, { headers: { Authorization: `Bearer ${node.token}` } })
  ).json()
  assert.ok(policy.cidBlacklist.some((e: { cid: string }) => e.cid === other.root.toString()))
  const refused = (async () => {
    for await (const _ of unixfs(helia).cat(other.root, { signal: AbortSignal.timeout(2_000) })) {
      // drain
    }
  })()
  await assert.rejects(refused, 'the next want for the denied CID is refused')
  assert.deepEqual(errors, [])
})
