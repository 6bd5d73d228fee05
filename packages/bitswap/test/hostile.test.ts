import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { encodeFrame, uvarintBytes } from '@autoretrieve/frames'
import { createHeliaPeer, createUnixfsFixture, waitUntil } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { encodeMessage, WantType } from '../src/codec.ts'
import { rawPeer, startServer } from './helpers.ts'

async function helloFetch(
  t: { after(fn: () => Promise<unknown>): void },
  addr: Parameters<Awaited<ReturnType<typeof createHeliaPeer>>['libp2p']['dial']>[0],
  root: CID
) {
  const helia = await createHeliaPeer()
  t.after(() => helia.stop())
  await helia.libp2p.dial(addr)
  const parts: Uint8Array[] = []
  for await (const c of unixfs(helia).cat(root, { signal: AbortSignal.timeout(30_000) })) parts.push(c)
  return Buffer.concat(parts)
}

test('random bytes, truncated frames and an oversized length prefix reset only that stream; others are served', async (t) => {
  const { node, cache, server, tcpAddr } = await startServer(t)
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 100_000 })
  for (const b of fixture.blocks) await cache.put(b.cid, b.bytes)
  const attacks = [
    randomBytes(4096),
    Uint8Array.from([...uvarintBytes(100), 1, 2, 3]), // truncated: the stream ends mid-message
    uvarintBytes(5 * 1024 * 1024) // a length prefix over 4 MiB
  ]
  for (const bytes of attacks) {
    const peer = await rawPeer(t, node)
    await peer.sendRaw(bytes)
    await peer.stream.close().catch(() => {})
  }
  // Bounded wait for the three resets to be counted, not a fixed sleep.
  for (let tries = 0; server.stats().malformed < 3 && tries < 250; tries++) await sleep(20)
  assert.ok(server.stats().malformed >= 3, `malformed counted: ${server.stats().malformed}`)
  assert.deepEqual(await helloFetch(t, tcpAddr, fixture.root), Buffer.from(fixture.bytes))
})

test('a 10,000-entry wantlist is capped per peer', async (t) => {
  const { node, server } = await startServer(t, { maxWantlistEntriesPerPeer: 1024 })
  const peer = await rawPeer(t, node)
  const entries = []
  for (let i = 0; i < 10_000; i++) {
    entries.push({ cid: CID.createV1(raw.code, await sha256.digest(Buffer.from(`want ${i}`))) })
  }
  // Split into messages under 4 MiB, as a client must.
  for (let i = 0; i < entries.length; i += 2500) await peer.send({ wantlist: { entries: entries.slice(i, i + 2500) } })
  const deadline = Date.now() + 10_000
  while (server.stats().wantsReceived + server.stats().droppedEntries < 10_000 && Date.now() < deadline) await sleep(50)
  assert.equal(server.stats().wants, 1024)
  assert.equal(server.stats().droppedEntries, 10_000 - 1024)
})

test('a peer that never reads does not hold up others, and its queue stays bounded', async (t) => {
  const { node, cache, server, tcpAddr } = await startServer(t, { maxWorkers: 2 })
  const big = await createUnixfsFixture({ size: 24 * 1024 * 1024, chunkSize: 1024 * 1024, seed: 3 })
  for (const b of big.blocks) await cache.put(b.cid, b.bytes)
  const small = await createUnixfsFixture({ size: 2 * 1024 * 1024, chunkSize: 256 * 1024, seed: 4 })
  for (const b of small.blocks) await cache.put(b.cid, b.bytes)
  const stuck = await rawPeer(t, node, { read: false })
  await stuck.send({ wantlist: { entries: big.blocks.map((b) => ({ cid: b.cid })) } })
  await sleep(300)
  assert.deepEqual(await helloFetch(t, tcpAddr, small.root), Buffer.from(small.bytes))
  const mine = server.peers().find((p) => p.peer === stuck.node.peerId.toString())!
  assert.ok(mine.bytesSent < 12 * 1024 * 1024, `sent ${mine.bytesSent} bytes to a peer that reads nothing`)
  assert.ok(mine.queued <= big.blocks.length)
})

test('a peer that sends each message on a stream of its own (as boxo and Helia do) is heard past 64 of them', async (t) => {
  // Every stream is closed for writing by the peer after one message; the server must close its
  // end once it has read it, or each stays half-open and counts against the protocol's inbound
  // stream limit (64): kubo's provider then could not deliver the 65th block of a retrieval.
  const { node, server } = await startServer(t)
  const peer = await rawPeer(t, node)
  const remote = node.peerId
  const messages = 100
  for (let i = 0; i < messages; i++) {
    const bytes = new TextEncoder().encode(`absent ${i}`)
    const cid = CID.createV1(raw.code, await sha256.digest(bytes))
    const stream = await peer.node.dialProtocol(remote, '/ipfs/bitswap/1.2.0', { signal: AbortSignal.timeout(5_000) })
    if (stream.status !== 'open') assert.fail(`stream ${i + 1} was closed by the server at once`)
    stream.send(encodeFrame(encodeMessage({ wantlist: { entries: [{ cid, wantType: WantType.Have }] } })))
    await stream.close({ signal: AbortSignal.timeout(5_000) })
  }
  await waitUntil('every want', () => server.stats().wantsReceived === messages)
})
