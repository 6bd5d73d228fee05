import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  cidFromPrefix,
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  type OutgoingMessage,
  PROTOCOLS,
  PresenceType,
  WantType
} from '@autoretrieve/bitswap'
import { encodeFrame, readFrames } from '@autoretrieve/frames'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import {
  cliEnv,
  denyViaApi,
  explain,
  importCarViaNode,
  refusalReasons,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

/**
 * A bare Bitswap peer on real libp2p (TCP, Noise, Yamux): it sends wantlists on a stream it opens
 * and reads the node's answers on the streams the node opens back, as Bitswap does.
 */
async function bitswapPeer(t: { after(fn: () => Promise<unknown>): void }, addrs: string[]) {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  t.after(async () => {
    await node.stop()
  })
  const received: DecodedMessage[] = []
  await node.handle(PROTOCOLS, (stream) => {
    ;(async () => {
      for await (const bytes of readFrames(stream, { maxLength: 8 * 1024 * 1024 })) received.push(decodeMessage(bytes))
    })().catch(() => {})
  })
  const conn = await node.dial(multiaddr(addrs.find((a) => !a.includes('/ws'))!))
  const out = await node.dialProtocol(conn.remotePeer, PROTOCOLS[0])
  return {
    peerId: node.peerId.toString(),
    async send(msg: OutgoingMessage) {
      if (!out.send(encodeFrame(encodeMessage(msg)))) await out.onDrain()
    },
    /** The answers about `cid` (BLOCK, HAVE, DONT_HAVE) in messages from index `from` on, once there is one (bounded). */
    async answersAbout(cid: CID, from: number) {
      const about = () =>
        received
          .slice(from)
          .flatMap((m) => [
            ...m.payload.filter((p) => equalsMultihash(cidFromPrefix(p.prefix, p.data), cid)).map(() => 'BLOCK'),
            ...m.blockPresences
              .filter((p) => equalsMultihash(CID.decode(p.cid), cid))
              .map((p) => (p.type === PresenceType.DontHave ? 'DONT_HAVE' : 'HAVE'))
          ])
      return until(`an answer about ${cid}`, about, (answers) => answers.length > 0)
    },
    get count() {
      return received.length
    }
  }
}

const equalsMultihash = (a: CID, b: CID) => Buffer.from(a.multihash.bytes).equals(Buffer.from(b.multihash.bytes))

test('a CID denied through the admin API while the node runs is refused over Bitswap with reason blacklisted_cid; its cached copy goes and a re-import skips it', async (t) => {
  // Retrieval off: a want the cache cannot answer gets DONT_HAVE too, but with reason
  // disabled_retriever; only the policy check gives blacklisted_cid, and only it keeps a cached
  // block from being sent.
  const node = await startDaemon(t, await tempDataDir(t), cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' }))
  const fixture = await createUnixfsFixture({ size: 200_000, chunkSize: 100_000, seed: 61 })
  const root = fixture.root
  await importCarViaNode(node, fixture.car)
  const peer = await bitswapPeer(t, node.multiaddrs)
  let from = peer.count
  await peer.send({ wantlist: { entries: [{ cid: root, wantType: WantType.Have, sendDontHave: true }] } })
  // The root is a small dag-pb node: a want-have for it is answered with the block itself (as boxo does).
  assert.deepEqual(
    new Set(await peer.answersAbout(root, from)),
    new Set(['BLOCK']),
    'before the deny the node has the block'
  )
  await peer.send({ wantlist: { entries: [{ cid: root, cancel: true }] } })

  const version = await denyViaApi(node, root)
  // Denying removes the cached copy (the node's deny watcher, asynchronously).
  await until(
    'the denied block removed from the cache',
    () => explain(node, root),
    (e) => !e.cachedNow
  )
  from = peer.count
  await peer.send({ wantlist: { entries: [{ cid: root, wantType: WantType.Block, sendDontHave: true }] } })
  assert.deepEqual(new Set(await peer.answersAbout(root, from)), new Set(['DONT_HAVE']))
  assert.deepEqual(new Set(await refusalReasons(node, root, peer.peerId)), new Set(['blacklisted_cid']))

  // Imported again while denied: the import skips the denied block (issue 13), so it stays out of
  // the cache, and the policy check refuses the want again, naming the reason.
  await importCarViaNode(node, fixture.car)
  const now = await explain(node, root)
  assert.deepEqual([now.deniedNow, now.cachedNow, now.policyVersion], [true, false, version])
  const seen = now.refusals.filter((r) => r.peer === peer.peerId).length
  from = peer.count
  await peer.send({ wantlist: { entries: [{ cid: root, wantType: WantType.Block, sendDontHave: true }] } })
  assert.deepEqual(new Set(await peer.answersAbout(root, from)), new Set(['DONT_HAVE']), 'a denied block is not sent')
  const refusals = await until(
    'the second refusal recorded',
    async () => (await explain(node, root)).refusals.filter((r) => r.peer === peer.peerId),
    (r) => r.length > seen
  )
  assert.deepEqual(
    new Set(refusals.map((r) => `${r.reason} at policy version ${r.policyVersion}`)),
    new Set([`blacklisted_cid at policy version ${version}`])
  )
})
