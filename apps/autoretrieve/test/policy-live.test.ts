import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createHeliaPeer, createUnixfsFixture, type HeliaPeer } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'
import {
  adminApi,
  cliEnv,
  denyViaApi,
  explain,
  importCarViaNode,
  refusalReasons,
  scratchDatabase,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

async function cat(helia: HeliaPeer, root: CID, timeoutMs: number) {
  const parts: Uint8Array[] = []
  for await (const chunk of unixfs(helia).cat(root, { signal: AbortSignal.timeout(timeoutMs) })) parts.push(chunk)
  return Buffer.concat(parts)
}

test('two nodes on one PostgreSQL: a deny through the first is in force on the second without a restart, reason blacklisted_cid, a re-import skips it; removing it serves again', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const env = cliEnv({
    AUTORETRIEVE_DATABASE_URL: databaseUrl,
    AUTORETRIEVE_DISABLE_RETRIEVAL: 'true'
  })
  const first = await startDaemon(t, await tempDataDir(t), env)
  const second = await startDaemon(t, await tempDataDir(t), env)
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 41 })
  await importCarViaNode(second, fixture.car)

  // Denied through the first node, in force on the second without a restart. README: "in force at
  // once on every instance that shares the database (PostgreSQL LISTEN/NOTIFY)". The second node
  // has no other way to learn of it (no polling), so the version arriving at all shows the push;
  // the wait's bound only ends a hung test (how fast is a benchmark's question, not this test's).
  const version = await denyViaApi(second, fixture.root, first)
  await until(
    'denying removed the cached copy on the second node',
    () => explain(second, fixture.root),
    (e) => !e.cachedNow
  )
  // Imported again while denied: the import skips the denied block (issue 13), and the second
  // node's policy check refuses it to a peer, naming the reason.
  await importCarViaNode(second, fixture.car)
  const now = await explain(second, fixture.root)
  assert.deepEqual([now.deniedNow, now.cachedNow, now.policyVersion], [true, false, version])

  const helia = await createHeliaPeer()
  t.after(() => helia.stop())
  await helia.libp2p.dial(multiaddr(second.multiaddrs.find((a) => !a.includes('/ws'))!))
  await assert.rejects(cat(helia, fixture.root, 2_000), 'a denied root is refused')
  const reasons = await refusalReasons(second, fixture.root, helia.libp2p.peerId.toString())
  assert.deepEqual(new Set(reasons), new Set(['blacklisted_cid']))

  assert.equal((await adminApi(first, 'DELETE', `/api/v1/blacklist/cids/${fixture.root}`)).status, 200)
  await until(
    'the allow on the second node',
    () => explain(second, fixture.root),
    (e) => !e.deniedNow
  )
  await importCarViaNode(second, fixture.car)
  const helia2 = await createHeliaPeer()
  t.after(() => helia2.stop())
  await helia2.libp2p.dial(multiaddr(second.multiaddrs.find((a) => !a.includes('/ws'))!))
  assert.deepEqual(await cat(helia2, fixture.root, 10_000), Buffer.from(fixture.bytes))
})
