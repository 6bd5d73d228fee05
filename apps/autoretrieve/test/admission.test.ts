import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeMessage, PROTOCOL_120 } from '@autoretrieve/bitswap'
import { encodeFrame } from '@autoretrieve/frames'
import { createUnixfsFixture, parseExposition, sampleValue, startIndexer } from '@autoretrieve/testkit'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  adminApi,
  catFile,
  cliEnv,
  type DaemonHandle,
  heliaClient,
  importCarViaNode,
  quietBitswapPeer,
  refusalReasons,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

interface Stats {
  wantsReceived: number
  misses: number
  retrievals: { active: number; failed: number; failures: Record<string, number>; rateLimited: number }
}

const stats = async (node: DaemonHandle) => (await adminApi<Stats>(node, 'GET', '/api/v1/stats')).body

/** CIDs of blocks that exist nowhere. */
async function missingCids(prefix: string, n: number): Promise<CID[]> {
  const out: CID[] = []
  for (let i = 0; i < n; i++) out.push(CID.createV1(raw.code, await sha256.digest(Buffer.from(`${prefix} ${i}`))))
  return out
}

/** Sends `cids` as want-blocks (sendDontHave) in messages of `perMessage` entries. */
async function sendWants(peer: Libp2p, node: DaemonHandle, cids: CID[], perMessage = 200): Promise<void> {
  const addr = multiaddr(node.multiaddrs.find((a) => !a.includes('/ws'))!)
  const stream = await peer.dialProtocol(addr, PROTOCOL_120)
  for (let i = 0; i < cids.length; i += perMessage) {
    const entries = cids.slice(i, i + perMessage).map((cid) => ({ cid, sendDontHave: true }))
    if (!stream.send(encodeFrame(encodeMessage({ wantlist: { entries } })))) await stream.onDrain()
  }
  await stream.close()
}

const lookups = (indexer: { requests: Array<{ path: string }> }) =>
  indexer.requests.filter((r) => r.path.startsWith('/cid/')).length

test('2,000 wants for missing blocks from one peer cost at most a few hundred lookups; a reconnect does not reset the budget; a Helia peer is served a cached DAG meanwhile', async (t) => {
  const indexer = await startIndexer({ providers: [] })
  t.after(() => indexer.close())
  const dataDir = await tempDataDir(t)
  const node = await startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url }))
  const fixture = await createUnixfsFixture({ size: 4 * 1024 * 1024, chunkSize: 256 * 1024, seed: 1300 })
  await importCarViaNode(node, fixture.car)

  const attacker = await quietBitswapPeer(t)
  const helia = await heliaClient(t, node.multiaddrs)
  const reading = catFile(helia, fixture.root, 30_000)
  const wants = await missingCids('missing', 2_000)
  await sendWants(attacker, node, wants)
  // The moment the last want was taken in: the bucket is empty then (every want before it took
  // whatever had refilled).
  await until(
    '2,000 wants taken in',
    () => stats(node),
    (s) => s.wantsReceived >= 2_000,
    {
      timeoutMs: 60_000,
      intervalMs: 20
    }
  )
  const lastWantAt = Date.now()
  // Retrievals started so far: every miss not refused (both are counted as the want is taken in).
  const started = (s: Stats) => s.misses - s.retrievals.rateLimited
  const before = started(await stats(node))
  // The peer hangs up and comes back (same peer ID), and at once wants 50 more missing blocks:
  // with a fresh bucket all 50 would start a retrieval; with its own, only what refilled since.
  await attacker.hangUp(multiaddr(node.multiaddrs.find((a) => !a.includes('/ws'))!))
  await sendWants(attacker, node, await missingCids('after reconnect', 50))
  const settled = (s: Stats) => s.retrievals.failed + s.retrievals.rateLimited
  const end = await until(
    '2,050 wants answered',
    () => stats(node),
    (s) => settled(s) >= 2_050,
    {
      timeoutMs: 60_000,
      intervalMs: 20
    }
  )
  const elapsedSeconds = (Date.now() - lastWantAt) / 1000
  const afterReconnect = started(end) - before
  const bound = Math.ceil(10 * elapsedSeconds) + 2
  assert.ok(bound < 50, `the machine was too slow to tell a refill from a reset (${elapsedSeconds} s)`)
  assert.ok(afterReconnect <= bound, `after a reconnect: ${afterReconnect} lookups in ${elapsedSeconds} s`)

  assert.deepEqual(await reading, Buffer.from(fixture.bytes), 'the Helia peer got the cached DAG whole')
  const total = lookups(indexer)
  assert.ok(total <= 300, `2,050 missing wants made ${total} indexer lookups`)
  assert.ok(end.retrievals.rateLimited >= 1_500, `rate limited: ${end.retrievals.rateLimited}`)
  assert.equal(end.retrievals.failures.no_candidates, end.retrievals.failed)
  console.log(
    `# 2,050 missing wants from one peer: ${total} indexer lookups, ${end.retrievals.rateLimited} rate limited`
  )

  // Refusals are recorded with their reason, and counted in the metrics.
  assert.ok((await refusalReasons(node, wants[1_999])).includes('rate_limited'))
  const metrics = parseExposition(await (await fetch(`${node.adminUrl}/metrics`)).text())
  const refused = sampleValue(metrics, 'autoretrieve_bitswap_response_total', {
    bitswap_topic: 'DONT_HAVE',
    bitswap_dont_have_reason: 'rate_limited'
  })
  assert.ok((refused ?? 0) >= 1_500, `DONT_HAVE rate_limited: ${refused}`)
  assert.equal(
    sampleValue(metrics, 'autoretrieve_retrieval_failure_total', { reason: 'rate_limited' }),
    (await stats(node)).retrievals.rateLimited
  )
})

test('a failing indexer is indexer_failed with its error in explain, stats and metrics, and is asked again next time', async (t) => {
  const indexer = await startIndexer({ providers: [], fault: 'status500' })
  t.after(() => indexer.close())
  const dataDir = await tempDataDir(t)
  const node = await startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url }))
  const peer = await quietBitswapPeer(t)
  const [cid] = await missingCids('indexer down', 1)
  await sendWants(peer, node, [cid])
  assert.deepEqual(await refusalReasons(node, cid), ['indexer_failed'])
  const why = await until(
    'the failed retrieval recorded',
    async () =>
      (
        await adminApi<{ retrievals: Array<{ status: string; reason: string; error: string | null }> }>(
          node,
          'GET',
          `/api/v1/cids/${cid}/explain`
        )
      ).body,
    (e) => e.retrievals.some((r) => r.status === 'failed')
  )
  assert.equal(why.retrievals[0].reason, 'indexer_failed')
  assert.match(why.retrievals[0].error ?? '', /HTTP 500/)
  const s = await stats(node)
  assert.equal(s.retrievals.failures.indexer_failed, 1)
  assert.equal(s.retrievals.failures.no_candidates, undefined)
  const metrics = parseExposition(await (await fetch(`${node.adminUrl}/metrics`)).text())
  assert.equal(sampleValue(metrics, 'autoretrieve_retrieval_failure_total', { reason: 'indexer_failed' }), 1)
  assert.equal(sampleValue(metrics, 'autoretrieve_retrieval_failure_total', { reason: 'no_candidates' }), 0)

  // The failure was not remembered as "unknown": once the indexer answers, it is asked again.
  indexer.setFault('none')
  const before = lookups(indexer)
  await sendWants(peer, node, [cid])
  await until(
    'the second retrieval ended',
    () => stats(node),
    (x) => x.retrievals.failed >= 2
  )
  assert.equal(lookups(indexer), before + 1)
  assert.equal((await stats(node)).retrievals.failures.no_candidates, 1)
})
