import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeFrame, readFrames } from '@autoretrieve/frames'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { Uint8ArrayList } from 'uint8arraylist'
import { createBitswapServer, decodeMessage, encodeMessage } from '../src/index.ts'
import { testPolicy } from './helpers.ts'

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

/**
 * A stream that takes what it is given and lets it out slowly, a few KiB per 'drain' event, as
 * yamux does for a peer whose window updates trickle in (a Helia client busy hashing blocks).
 * Its onDrain() behaves as libp2p 3's (@libp2p/utils 7.4): the promise it makes is never renewed,
 * so once one drain happened it resolves at once, needed or not.
 */
function slowStream(drainStep: number) {
  const written = new Uint8ArrayList()
  let buffered = 0
  let drainPromise: PromiseWithResolvers<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const trickle = () => {
    timer = undefined
    buffered = Math.max(0, buffered - drainStep)
    stream.dispatchEvent(new Event('drain'))
    drainPromise?.resolve()
    if (buffered > 0) timer = setTimeout(trickle, 1)
  }
  class SlowStream extends EventTarget {
    protocol = '/ipfs/bitswap/1.2.0'
    status = 'open'
    writeStatus = 'writable'
    get writeBufferLength() {
      return buffered
    }
    get writableNeedsDrain() {
      return buffered > 0
    }
    send(data: Uint8ArrayList | Uint8Array) {
      written.append(data)
      buffered += data.byteLength
      timer ??= setTimeout(trickle, 1)
      return buffered === 0
    }
    onDrain() {
      if (buffered === 0) return Promise.resolve()
      drainPromise ??= Promise.withResolvers()
      return drainPromise.promise
    }
    async close() {}
    abort() {}
  }
  const stream = new SlowStream()
  return { stream, written, stop: () => clearTimeout(timer) }
}

test('a peer whose stream drains slowly gets every block the server counts as sent', async (t) => {
  // Regression: with more than a bound's worth unsent in the peer's stream, the server
  // waited for one drain and went on without writing the message, yet counted its blocks as sent
  // and forgot the wants: the peer never got them and never asked again (the bench/miss stall).
  const blocks = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const bytes = new TextEncoder().encode(`${i}:`.padEnd(64 * 1024, 'x'))
      return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
    })
  )
  const byCid = new Map(blocks.map((b) => [b.cid.toString(), b.bytes]))
  const { stream: out, written, stop } = slowStream(16 * 1024)
  t.after(stop)
  let handler: ((stream: unknown, connection: unknown) => void) | undefined
  const libp2p = {
    handle: async (_p: unknown, h: typeof handler) => {
      handler = h
    },
    unhandle: async () => {},
    dialProtocol: async () => out,
    addEventListener() {},
    removeEventListener() {}
  }
  const server = createBitswapServer(
    {
      libp2p: libp2p as never,
      blocks: {
        has: async (cid) => byCid.has(cid.toString()),
        get: async (cid) => byCid.get(cid.toString()),
        onBlock: () => () => {}
      },
      policy: testPolicy()
    },
    {}
  )
  await server.start()
  t.after(() => server.stop())
  const want = encodeFrame(encodeMessage({ wantlist: { entries: blocks.map((b) => ({ cid: b.cid })) } }))
  handler!(
    {
      protocol: '/ipfs/bitswap/1.2.0',
      async *[Symbol.asyncIterator]() {
        yield want.subarray()
      },
      abort() {}
    },
    { remotePeer: peerIdFromString(PEER), abort() {} }
  )
  const deadline = Date.now() + 10_000
  while (server.stats().blocksSent < blocks.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  assert.equal(server.stats().blocksSent, blocks.length)
  const delivered: string[] = []
  for await (const body of readFrames(
    (async function* () {
      yield written
    })(),
    { maxLength: 8 * 1024 * 1024 }
  )) {
    for (const p of decodeMessage(body).payload) delivered.push(Buffer.from(p.data).toString().split(':')[0])
  }
  assert.equal(delivered.length, blocks.length, 'each block counted as sent was written to the stream')
  assert.equal(new Set(delivered).size, blocks.length)
})
