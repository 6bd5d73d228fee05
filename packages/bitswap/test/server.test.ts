import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createHeliaPeer, createUnixfsFixture, waitUntil } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { type BitswapServerInit, createBitswapServer, PresenceType, WantType } from '../src/index.ts'
import { loopbackNode, rawPeer, startServer, testPolicy } from './helpers.ts'

async function cat(helia: Awaited<ReturnType<typeof createHeliaPeer>>, root: CID, timeoutMs = 30_000) {
  const parts: Uint8Array[] = []
  for await (const chunk of unixfs(helia).cat(root, { signal: AbortSignal.timeout(timeoutMs) })) parts.push(chunk)
  return Buffer.concat(parts)
}

async function rawBlock(text: string) {
  const bytes = new TextEncoder().encode(text)
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

test('a Helia client fetches a multi-MiB UnixFS file byte-identical over TCP and over WebSockets', async (t) => {
  const { cache, tcpAddr, wsAddr, server } = await startServer(t)
  const fixture = await createUnixfsFixture({ size: 5 * 1024 * 1024 + 123, chunkSize: 256 * 1024 })
  for (const b of fixture.blocks) await cache.put(b.cid, b.bytes)
  for (const addr of [tcpAddr, wsAddr]) {
    const helia = await createHeliaPeer()
    t.after(() => helia.stop())
    await helia.libp2p.dial(addr)
    assert.deepEqual(await cat(helia, fixture.root), Buffer.from(fixture.bytes), `over ${addr}`)
  }
  assert.ok(server.stats().blocksSent >= fixture.blocks.length * 2)
})

test('a client that asks before the blocks exist gets them when they land; two clients both get the same block', async (t) => {
  const { cache, tcpAddr, server } = await startServer(t)
  const fixture = await createUnixfsFixture({ size: 1024 * 1024, chunkSize: 128 * 1024, seed: 7 })
  const a = await createHeliaPeer()
  const b = await createHeliaPeer()
  t.after(async () => {
    await a.stop()
    await b.stop()
  })
  await a.libp2p.dial(tcpAddr)
  await b.libp2p.dial(tcpAddr)
  const fetchA = cat(a, fixture.root)
  const fetchB = cat(b, fixture.root)
  await waitUntil('both wants for the root', () => server.peers().filter((p) => p.wants > 0).length === 2)
  // The late path, not a cache hit: both wants were looked up and missed before any block landed.
  assert.equal(await cache.has(fixture.root), false)
  assert.equal(server.stats().hits, 0)
  assert.ok(server.stats().misses >= 2, `misses: ${server.stats().misses}`)
  for (const blk of fixture.blocks) await cache.put(blk.cid, blk.bytes)
  assert.deepEqual(await fetchA, Buffer.from(fixture.bytes))
  assert.deepEqual(await fetchB, Buffer.from(fixture.bytes))
})

test('want-have is answered HAVE; a miss DONT_HAVE only with sendDontHave; want-block gets the block', async (t) => {
  const { node, cache } = await startServer(t)
  // Over 1024 bytes: a smaller block is sent in place of HAVE (the next test).
  const present = await rawBlock('present'.repeat(200))
  const absent = await rawBlock('absent')
  await cache.put(present.cid, present.bytes)
  const peer = await rawPeer(t, node)
  // Without sendDontHave a miss gets no answer: the only reply is the HAVE for the present block.
  await peer.send({
    wantlist: {
      entries: [
        { cid: absent.cid, wantType: WantType.Have },
        { cid: present.cid, wantType: WantType.Have }
      ]
    }
  })
  const [first] = await peer.waitFor(1)
  assert.deepEqual(
    first.blockPresences.map((p) => [CID.decode(p.cid).toString(), p.type]),
    [[present.cid.toString(), PresenceType.Have]]
  )
  await peer.send({ wantlist: { entries: [{ cid: absent.cid, wantType: WantType.Have, sendDontHave: true }] } })
  const [, second] = await peer.waitFor(2)
  assert.deepEqual(
    second.blockPresences.map((p) => [CID.decode(p.cid).toString(), p.type]),
    [[absent.cid.toString(), PresenceType.DontHave]]
  )
  await peer.send({ wantlist: { entries: [{ cid: present.cid, wantType: WantType.Block, sendDontHave: true }] } })
  const [, , third] = await peer.waitFor(3)
  assert.equal(Buffer.from(third.payload[0].data).toString(), 'present'.repeat(200))
})

test('a want-have for a block of at most 1024 bytes is answered with the block, as boxo does', async (t) => {
  const { node, cache } = await startServer(t)
  const small = await rawBlock('x'.repeat(1024))
  const large = await rawBlock('x'.repeat(1025))
  await cache.put(small.cid, small.bytes)
  await cache.put(large.cid, large.bytes)
  const peer = await rawPeer(t, node)
  await peer.send({
    wantlist: {
      entries: [
        { cid: small.cid, wantType: WantType.Have },
        { cid: large.cid, wantType: WantType.Have }
      ]
    }
  })
  // One message or two (a cached block may go out before the rest of the wantlist is looked at).
  let messages = await peer.waitFor(1)
  if (messages[0].payload.length + messages[0].blockPresences.length < 2) messages = await peer.waitFor(2)
  const payload = messages.flatMap((m) => m.payload.map((b) => b.data.byteLength))
  const presences = messages.flatMap((m) => m.blockPresences.map((p) => [CID.decode(p.cid).toString(), p.type]))
  assert.deepEqual(payload, [1024], 'the small block itself, not HAVE')
  assert.deepEqual(presences, [[large.cid.toString(), PresenceType.Have]])
})

test('a cancelled want gets nothing when its block lands; a live one does', async (t) => {
  const { node, cache, server } = await startServer(t)
  const cancelled = await rawBlock('cancelled')
  const kept = await rawBlock('kept')
  const peer = await rawPeer(t, node)
  await peer.send({ wantlist: { entries: [{ cid: cancelled.cid }, { cid: kept.cid }] } })
  await peer.send({ wantlist: { entries: [{ cid: cancelled.cid, cancel: true }] } })
  // Two wants arrived, then the cancel: one is left.
  await waitUntil('the cancel', () => server.stats().wantsReceived === 2 && server.stats().wants === 1)
  await cache.put(cancelled.cid, cancelled.bytes)
  await cache.put(kept.cid, kept.bytes)
  const [msg] = await peer.waitFor(1)
  await sleep(200) // a negative needs a window: anything sent for the cancelled want would come in it
  const sent = peer.received.flatMap((m) => m.payload.map((p) => Buffer.from(p.data).toString()))
  assert.deepEqual(sent, ['kept'])
  assert.ok(msg)
})

test('a denied CID is refused even when cached, by multihash; allowing it again serves it', async (t) => {
  const { node, cache, policy, refusals } = await startServer(t)
  const blk = await rawBlock('secret')
  await cache.put(blk.cid, blk.bytes)
  policy.deny(CID.createV1(0x70, blk.cid.multihash)) // same content, another codec
  const peer = await rawPeer(t, node)
  await peer.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  const [first] = await peer.waitFor(1)
  assert.equal(first.payload.length, 0)
  assert.equal(first.blockPresences[0].type, PresenceType.DontHave)
  assert.deepEqual(
    refusals.map((r) => r.reason),
    ['blacklisted_cid']
  )
  policy.allow(blk.cid)
  await peer.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  const [, second] = await peer.waitFor(2)
  assert.equal(Buffer.from(second.payload[0].data).toString(), 'secret')
})

test('denying a CID refuses peers already waiting for it', async (t) => {
  const { node, policy } = await startServer(t)
  const blk = await rawBlock('later denied')
  const peer = await rawPeer(t, node)
  await peer.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  await peer.waitFor(1) // DONT_HAVE: disabled_retriever
  policy.deny(blk.cid)
  const [, msg] = await peer.waitFor(2)
  assert.equal(msg.blockPresences[0].type, PresenceType.DontHave)
})

test('with no miss handler a miss is DONT_HAVE disabled_retriever; with one, its reason reaches the peer', async (t) => {
  const off = await startServer(t)
  const blk = await rawBlock('nowhere')
  const p1 = await rawPeer(t, off.node)
  await p1.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  await p1.waitFor(1)
  assert.deepEqual(
    off.refusals.map((r) => r.reason),
    ['disabled_retriever']
  )

  let calls = 0
  const on = await startServer(t, {
    missHandler: async () => {
      calls++
      await sleep(50)
      return { ok: false, reason: 'no_candidates' }
    }
  })
  const p2 = await rawPeer(t, on.node)
  const p3 = await rawPeer(t, on.node)
  await p2.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  await p3.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  await p2.waitFor(1)
  await p3.waitFor(1)
  assert.equal(calls, 1, 'one retrieval for one block, shared by both peers')
  assert.deepEqual(
    on.refusals.map((r) => r.reason),
    ['no_candidates', 'no_candidates']
  )
})

test('a miss handler that succeeds delivers the block it put in the cache', async (t) => {
  const blk = await rawBlock('retrieved')
  let cache: Awaited<ReturnType<typeof startServer>>['cache'] | undefined
  const s = await startServer(t, {
    missHandler: async () => {
      await cache!.put(blk.cid, blk.bytes)
      return { ok: true }
    }
  })
  cache = s.cache
  const peer = await rawPeer(t, s.node)
  await peer.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  const [msg] = await peer.waitFor(1)
  assert.equal(Buffer.from(msg.payload[0].data).toString(), 'retrieved')
})

test('a block the cache holds goes out before the rest of a long wantlist is looked at', async (t) => {
  // Each absent block's lookup here stays unanswered until the test lets it go (a miss being set
  // up); the present one, first in the wantlist, used to wait for all of them. Had it still waited,
  // no message would come while they hang, and waitFor would time out.
  const present = await rawBlock('at hand')
  const absent = await Promise.all(Array.from({ length: 10 }, (_, i) => rawBlock(`absent ${i}`)))
  const lookups = Promise.withResolvers<void>()
  let answered = 0
  const node = await loopbackNode(['/ip4/127.0.0.1/tcp/0'])
  const server = createBitswapServer({
    libp2p: node,
    blocks: {
      has: async (cid) => {
        if (cid.equals(present.cid)) return true
        await lookups.promise
        answered++
        return false
      },
      get: async (cid) => (cid.equals(present.cid) ? present.bytes : undefined),
      onBlock: () => () => {}
    },
    policy: testPolicy()
  })
  await server.start()
  t.after(async () => {
    lookups.resolve()
    await server.stop()
    await node.stop()
  })
  const peer = await rawPeer(t, node)
  await peer.send({ wantlist: { entries: [present, ...absent].map((b) => ({ cid: b.cid })) } })
  const [msg] = await peer.waitFor(1)
  assert.equal(Buffer.from(msg.payload[0].data).toString(), 'at hand')
  assert.equal(answered, 0, 'sent while every absent block was still being looked up')
})

/**
 * A server whose misses never end (a retrieval that goes on) over a block source the test
 * drives: `land` announces a block as the cache would; `get` answers reads (counted).
 */
async function serverWithLandings(
  t: { after(fn: () => Promise<void>): void },
  read: (cid: CID) => Uint8Array | undefined = () => undefined,
  init: Omit<BitswapServerInit, 'missHandler'> = {}
) {
  const listeners = new Set<(cid: CID, bytes: Uint8Array) => void>()
  const landed = new Set<string>()
  let reads = 0
  const node = await loopbackNode(['/ip4/127.0.0.1/tcp/0'])
  const server = createBitswapServer(
    {
      libp2p: node,
      blocks: {
        has: async (cid) => landed.has(cid.toString()),
        get: async (cid) => {
          reads++
          return read(cid)
        },
        onBlock: (l) => {
          listeners.add(l)
          return () => listeners.delete(l)
        }
      },
      policy: testPolicy()
    },
    { ...init, missHandler: () => new Promise(() => {}) }
  )
  await server.start()
  t.after(async () => {
    await server.stop()
    await node.stop()
  })
  return {
    node,
    server,
    land(cid: CID, bytes: Uint8Array) {
      landed.add(cid.toString())
      for (const l of listeners) l(cid, bytes)
    },
    get reads() {
      return reads
    }
  }
}

test('a block that lands while a peer waits is sent as it came, without reading it back', async (t) => {
  const blk = await rawBlock('just landed')
  // A read would come back empty: only the bytes handed over can be sent.
  const { node, land, ...source } = await serverWithLandings(t)
  const peer = await rawPeer(t, node)
  await peer.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  await waitUntil('the want', () => source.server.stats().wants === 1)
  assert.equal(source.server.stats().misses, 1, 'not in the source when the want arrived')
  land(blk.cid, blk.bytes)
  const [msg] = await peer.waitFor(1)
  assert.equal(Buffer.from(msg.payload[0].data).toString(), 'just landed')
  assert.equal(source.reads, 0)
})

test('past the held-bytes bound, a block that lands for a waiting peer is read back instead of kept', async (t) => {
  const blk = await rawBlock('read back, not held')
  const source = await serverWithLandings(t, () => blk.bytes, { maxHeldBytes: blk.bytes.byteLength - 1 })
  const peer = await rawPeer(t, source.node)
  await peer.send({ wantlist: { entries: [{ cid: blk.cid, sendDontHave: true }] } })
  await waitUntil('the want', () => source.server.stats().wants === 1)
  source.land(blk.cid, blk.bytes)
  const [msg] = await peer.waitFor(1)
  assert.equal(Buffer.from(msg.payload[0].data).toString(), 'read back, not held')
  assert.equal(source.reads, 1, 'over the bound the task keeps only the CID')
})

test('a peer that drops mid-transfer is let go: the node keeps running and holds nothing for it', async (t) => {
  const [x, y] = await Promise.all(
    [1, 2].map(async (n) => {
      const bytes = new Uint8Array(1_500_000).fill(n)
      return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
    })
  )
  // Room to hold one of the two blocks: if the dropped peer's were still counted, y would not be held.
  const source = await serverWithLandings(t, () => undefined, { maxHeldBytes: 2_000_000 })
  const a = await rawPeer(t, source.node, { read: false })
  await a.send({ wantlist: { entries: [{ cid: x.cid, sendDontHave: true }] } })
  await waitUntil("a's want", () => source.server.stats().wants === 1)
  source.land(x.cid, x.bytes)
  await waitUntil('the block to be on its way to a', () => a.inboundStreams === 1)
  for (const c of a.node.getConnections()) c.abort(new Error('the peer went away'))
  // The event loop keeps turning. Retrying at once on the closed connection spun it in microtasks:
  // no timer fired again, this one included, and the test hung (checked: it still does with an
  // immediate retry). How late a timer fires says nothing more on a loaded machine, so no bound on
  // it here; the backoff that prevents the spin is checked with mocked timers in send-scheduler.test.ts.
  await sleep(50)
  await waitUntil('the dropped peer to be forgotten', () => source.server.peers().length === 0)
  const b = await rawPeer(t, source.node)
  await b.send({ wantlist: { entries: [{ cid: y.cid, sendDontHave: true }] } })
  await waitUntil("b's want", () => source.server.stats().wants === 1)
  source.land(y.cid, y.bytes)
  const [msg] = await b.waitFor(1)
  assert.equal(msg.payload[0]?.data.byteLength, y.bytes.byteLength, 'y was held and sent as it landed')
  assert.equal(source.reads, 0)
})

test('a miss opens the reply stream ahead: its answer goes on it, one never used is closed, a cancel opens none', async (t) => {
  const [first, never] = await Promise.all([rawBlock('answered later'), rawBlock('never lands')])
  const { node, land } = await serverWithLandings(t)
  const peer = await rawPeer(t, node)
  // Nothing to answer (a cancel): no stream is opened for it.
  await peer.send({ wantlist: { entries: [{ cid: never.cid, cancel: true }] } })
  await sleep(200)
  assert.equal(peer.inboundStreams, 0)
  await peer.send({ wantlist: { entries: [{ cid: first.cid, sendDontHave: true }] } })
  await waitUntil('the stream opened ahead', () => peer.inboundStreams === 1)
  assert.equal(peer.received.length, 0, 'nothing to say yet')
  land(first.cid, first.bytes)
  await peer.waitFor(1)
  assert.equal(peer.inboundStreams, 1, 'the answer went on the stream opened ahead')
  await waitUntil('the answered stream to close', () => peer.openStreams === 0)

  await peer.send({ wantlist: { entries: [{ cid: never.cid, sendDontHave: true }] } })
  await waitUntil('a second stream opened ahead', () => peer.inboundStreams === 2)
  // Unused, it is closed after SPARE_IDLE_MS (2 s) rather than left open on the peer.
  await waitUntil('the unused stream to close', () => peer.openStreams === 0, { timeoutMs: 6_000 })
  assert.equal(peer.received.length, 1)
})

test('a 1.0.0 peer gets raw CIDv0 blocks and no presences', async (t) => {
  const { node, cache } = await startServer(t)
  const fixture = await createUnixfsFixture({ size: 1000, rawLeaves: false })
  const root = CID.createV0(fixture.root.multihash as never)
  await cache.put(root, fixture.blocks[0].bytes)
  const peer = await rawPeer(t, node, { protocol: '/ipfs/bitswap/1.0.0' })
  await peer.send({ wantlist: { entries: [{ cid: root }] } })
  const [msg] = await peer.waitFor(1)
  assert.equal(msg.blocks.length, 1)
  assert.deepEqual(Buffer.from(msg.blocks[0]), Buffer.from(fixture.blocks[0].bytes))
  assert.equal(msg.payload.length, 0)
})

test('blocks are packed up to the 4 MiB message limit, each message on a stream of its own', async (t) => {
  const { node, cache, server } = await startServer(t)
  const fixture = await createUnixfsFixture({ size: 8 * 1024 * 1024, chunkSize: 256 * 1024, seed: 9 })
  for (const b of fixture.blocks) await cache.put(b.cid, b.bytes)
  const leaves = fixture.blocks.filter((b) => b.cid.code === raw.code)
  const peer = await rawPeer(t, node)
  await peer.send({ wantlist: { entries: leaves.map((b) => ({ cid: b.cid })) } })
  const deadline = Date.now() + 20_000
  let got = 0
  while (got < leaves.length && Date.now() < deadline) {
    await peer.waitFor(peer.received.length + 1)
    got = peer.received.reduce((a, m) => a + m.payload.length, 0)
  }
  assert.equal(got, leaves.length)
  // 32 leaves of 256 KiB: 15 fit under the target, so three packed messages, not 32, plus at most
  // one early message: sending starts as soon as the first want is answerable.
  assert.ok(peer.received.length >= 3 && peer.received.length <= 4, `${peer.received.length} messages`)
  assert.ok(peer.received.every((m) => m.payload.reduce((a, b) => a + b.data.byteLength, 0) < 4 * 1024 * 1024))
  assert.equal(server.stats().blocksSent, leaves.length)
  assert.equal(peer.inboundStreams, peer.received.length, 'one stream per message')
})
