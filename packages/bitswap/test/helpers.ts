import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBlockCache } from '@autoretrieve/blockcache'
import { encodeFrame, readFrames } from '@autoretrieve/frames'
import { identify } from '@libp2p/identify'
import type { Libp2p, Stream } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { base58btc } from 'multiformats/bases/base58'
import type { CID } from 'multiformats/cid'
import {
  type BitswapServerInit,
  createBitswapServer,
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  type OutgoingMessage,
  PROTOCOLS
} from '../src/index.ts'

type After = { after(fn: () => Promise<unknown>): void }

export async function loopbackNode(listen = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  return node as unknown as Libp2p
}

/** A policy view over a mutable deny set, as the app's policy holder would be. */
export function testPolicy() {
  const denied = new Set<string>()
  const listeners = new Set<(n: { version: number }, p: { version: number }) => void>()
  let version = 1
  const key = (cid: CID) => base58btc.encode(cid.multihash.bytes)
  return {
    current: () => ({ version }),
    subscribe(l: (n: { version: number }, p: { version: number }) => void) {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    isDenied: (cid: CID) => denied.has(key(cid)),
    deny(cid: CID) {
      denied.add(key(cid))
      version++
      for (const l of listeners) l({ version }, { version: version - 1 })
    },
    allow(cid: CID) {
      denied.delete(key(cid))
      version++
      for (const l of listeners) l({ version }, { version: version - 1 })
    }
  }
}

/** Our server on a real libp2p node with a real block cache in a temp dir. */
export async function startServer(t: After, init: BitswapServerInit = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'ar-bitswap-'))
  const cache = createBlockCache({}, { path: dir })
  await cache.start()
  const node = await loopbackNode()
  const policy = testPolicy()
  const refusals: Array<{ cid: string; reason: string }> = []
  const server = createBitswapServer(
    {
      libp2p: node,
      blocks: cache,
      policy,
      events: { onRefusal: (cid, _p, reason) => refusals.push({ cid: cid.toString(), reason }) }
    },
    init
  )
  await server.start()
  t.after(async () => {
    await server.stop()
    await node.stop()
    await cache.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const tcpAddr = node.getMultiaddrs().find((m) => !m.toString().includes('/ws'))!
  const wsAddr = node.getMultiaddrs().find((m) => m.toString().includes('/ws'))!
  return { node, cache, policy, server, tcpAddr, wsAddr, refusals }
}

/**
 * A bare Bitswap peer speaking our codec directly: it sends messages on a stream it opens and
 * collects every message the server sends back on streams the server opens.
 */
export async function rawPeer(t: After, server: Libp2p, opts: { protocol?: string; read?: boolean } = {}) {
  const node = await loopbackNode(['/ip4/127.0.0.1/tcp/0'])
  const received: DecodedMessage[] = []
  const waiters: Array<() => void> = []
  const held: Stream[] = []
  let inboundStreams = 0
  let openStreams = 0
  await node.handle(PROTOCOLS, (stream) => {
    inboundStreams++
    openStreams++
    if (opts.read === false) {
      stream.pause() // never read: the server's writes back up
      held.push(stream)
      return
    }
    ;(async () => {
      for await (const bytes of readFrames(stream, { maxLength: 8 * 1024 * 1024 })) {
        received.push(decodeMessage(bytes))
        for (const w of waiters.splice(0)) w()
      }
    })()
      .catch(() => {})
      .finally(() => openStreams--)
  })
  t.after(async () => node.stop())
  const conn = await node.dial(server.getMultiaddrs()[0])
  const out = await node.dialProtocol(conn.remotePeer, opts.protocol ?? PROTOCOLS[0])
  return {
    node,
    received,
    async send(msg: OutgoingMessage) {
      if (!out.send(encodeFrame(encodeMessage(msg)))) await out.onDrain()
    },
    async sendRaw(bytes: Uint8Array) {
      if (!out.send(bytes)) await out.onDrain()
    },
    stream: out,
    /** Streams the server opened to this peer so far. */
    get inboundStreams() {
      return inboundStreams
    },
    /** Of those, the ones the server has not closed yet. */
    get openStreams() {
      return openStreams
    },
    /** Resolves when `count` messages in total have arrived (bounded by timeoutMs). */
    async waitFor(count: number, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${received.length}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100)
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
      return received
    }
  }
}
