import assert from 'node:assert/strict'
import { connect, createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import { encodeMessage, PROTOCOL_120 } from '@autoretrieve/bitswap'
import { encodeFrame } from '@autoretrieve/frames'
import { startIndexer } from '@autoretrieve/testkit'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  adminApi,
  cliEnv,
  type DaemonHandle,
  quietBitswapPeer,
  scratchDatabase,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

/**
 * A TCP proxy in front of PostgreSQL that can go down: while down it resets every open connection
 * and every new one at once, as a database host that dropped off the network and came back.
 */
async function pgProxy(t: After, target: URL) {
  const sockets = new Set<Socket>()
  let down = false
  const server = createServer((client) => {
    if (down) return client.destroy()
    const upstream = connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const url = new URL(target)
  url.host = `127.0.0.1:${(server.address() as { port: number }).port}`
  return {
    url: url.toString(),
    down() {
      down = true
      for (const s of sockets) s.destroy()
    },
    up() {
      down = false
    }
  }
}

async function want(node: DaemonHandle, t: After, cids: CID[]): Promise<void> {
  const peer = await quietBitswapPeer(t)
  const stream = await peer.dialProtocol(multiaddr(node.multiaddrs.find((a) => !a.includes('/ws'))!), PROTOCOL_120)
  stream.send(encodeFrame(encodeMessage({ wantlist: { entries: cids.map((cid) => ({ cid, sendDontHave: true })) } })))
  await stream.close()
}

test('records made while the database is unreachable (connections reset at a proxy) are all written once it is back', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const proxy = await pgProxy(t, new URL(databaseUrl))
  const indexer = await startIndexer({ providers: [] })
  t.after(() => indexer.close())
  const dataDir = await tempDataDir(t)
  const node = await startDaemon(
    t,
    dataDir,
    cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url, AUTORETRIEVE_DATABASE_URL: proxy.url })
  )
  const cids = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => CID.createV1(raw.code, await sha256.digest(Buffer.from(`outage ${i}`))))
  )
  proxy.down()
  await until(
    'the node to see the database down',
    async () => (await fetch(`${node.adminUrl}/readyz`)).status,
    (status) => status === 503,
    { timeoutMs: 30_000, intervalMs: 200 }
  )
  // Wants answered while the database is down: each makes a retrieval record and a refusal.
  await want(node, t, cids)
  await until(
    '20 retrievals ended during the outage',
    async () => (await adminApi<{ retrievals: { failed: number } }>(node, 'GET', '/api/v1/stats')).body,
    (s) => s.retrievals.failed >= 20,
    { timeoutMs: 30_000, intervalMs: 200 }
  )
  const during = (await adminApi<{ records: { buffered: number; written: number } }>(node, 'GET', '/api/v1/stats')).body
    .records
  assert.ok(during.buffered >= 20, `records held during the outage: ${JSON.stringify(during)}`)
  await new Promise((r) => setTimeout(r, 2_000)) // the outage goes on a while: the writer retries, drops nothing
  proxy.up()
  const after = await until(
    'every record written after the outage',
    async () =>
      (
        await adminApi<{ records: { buffered: number; written: number; dropped: number } }>(
          node,
          'GET',
          '/api/v1/stats'
        )
      ).body.records,
    (r) => r.buffered === 0,
    { timeoutMs: 60_000, intervalMs: 200 }
  )
  assert.equal(after.dropped, 0)
  for (const cid of cids) {
    const why = (
      await adminApi<{ retrievals: Array<{ reason: string }>; refusals: Array<{ reason: string }> }>(
        node,
        'GET',
        `/api/v1/cids/${cid}/explain`
      )
    ).body
    assert.deepEqual(
      [why.retrievals.map((r) => r.reason), why.refusals.map((r) => r.reason)],
      [['no_candidates'], ['no_candidates']],
      `${cid}`
    )
  }
})
