import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createHeliaPeer, createUnixfsFixture, type HeliaPeer } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'
import { cliEnv, type DaemonHandle, importCarViaNode, scratchDatabase, startDaemon, tempDataDir } from './helpers.ts'

async function cat(helia: HeliaPeer, root: CID, timeoutMs: number) {
  const parts: Uint8Array[] = []
  for await (const chunk of unixfs(helia).cat(root, { signal: AbortSignal.timeout(timeoutMs) })) parts.push(chunk)
  return Buffer.concat(parts)
}

async function api(node: DaemonHandle, method: string, path: string, body?: unknown) {
  const res = await fetch(`${node.adminUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

test('two nodes on one PostgreSQL: a deny through the first is in force on the second within a second; removing it serves again', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return t.skip('PostgreSQL not reachable on 127.0.0.1:5432')
  const env = cliEnv({
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_DISABLE_RETRIEVAL: 'true'
  })
  const first = await startDaemon(t, await tempDataDir(t), env)
  const second = await startDaemon(t, await tempDataDir(t), env)
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 41 })
  await importCarViaNode(second, fixture.car)

  const denied = await api(first, 'POST', '/api/v1/blacklist/cids', { cid: fixture.root.toString(), reason: 'test' })
  assert.equal(denied.status, 201)
  const deadline = Date.now() + 1_000
  let seen = -1
  while (Date.now() < deadline) {
    seen = (await api(second, 'GET', '/api/v1/policy')).body.version
    if (seen >= denied.body.version) break
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.equal(seen, denied.body.version, 'the second node did not take the new policy version within 1 s')

  const helia = await createHeliaPeer()
  t.after(() => helia.stop())
  await helia.libp2p.dial(multiaddr(second.multiaddrs.find((a) => !a.includes('/ws'))!))
  await assert.rejects(cat(helia, fixture.root, 2_000), 'a denied root is refused')
  const why = await api(second, 'GET', `/api/v1/cids/${fixture.root}/explain`)
  assert.equal(why.body.deniedNow, true)
  assert.equal(why.body.cachedNow, false, 'denying removed the cached copy')

  await api(first, 'DELETE', `/api/v1/blacklist/cids/${fixture.root}`)
  await importCarViaNode(second, fixture.car)
  const helia2 = await createHeliaPeer()
  t.after(() => helia2.stop())
  await helia2.libp2p.dial(multiaddr(second.multiaddrs.find((a) => !a.includes('/ws'))!))
  assert.deepEqual(await cat(helia2, fixture.root, 10_000), Buffer.from(fixture.bytes))
})
