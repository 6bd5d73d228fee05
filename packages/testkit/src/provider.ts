import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { createBitswapServer } from '@autoretrieve/bitswap'
import { addressOfKey, formatAddress, generatePrivateKey } from '@autoretrieve/chain'
import { walkDag } from '@autoretrieve/dag'
import { encodeFrame, uvarintBytes } from '@autoretrieve/frames'
import { multihashKey } from '@autoretrieve/interface'
import { CarBlockIterator } from '@ipld/car/iterator'
import { CarWriter } from '@ipld/car/writer'
import * as dagCbor from '@ipld/dag-cbor'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { Hono } from 'hono'
import { stream } from 'hono/streaming'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { type BoostAsk, createBoostGraphsync, type GraphsyncFault } from './boost-graphsync.ts'
import { serveLoopback } from './serve-http.ts'
import { createVoucherChecker } from './voucher-checker.ts'

export type ProviderFault =
  | 'none'
  | 'wrong-block'
  | 'truncate'
  | 'reject'
  | 'too-many-deals'
  | 'status404'
  | 'status500'
  | `slow:${number}`
  | `delay:${number}`
  // Hostile HTTP providers (issue 13), each what one real provider could do to a node:
  | 'huge-block' // a valid header, then a section claiming a 1 GiB block under the root's CID, then junk
  | 'huge-header' // a CAR header claiming 100 MiB, then junk
  | 'hang' // accepts the request and never answers (no status line) until the client goes away
  | 'trailing-junk' // the whole DAG as a valid CAR, then 1 MiB of random bytes

export type ProviderProtocol = 'http' | 'bitswap' | 'graphsync'

/** What the hostile faults claim: a 1 GiB block, a 100 MiB header; and 1 MiB of junk after a good DAG. */
const HUGE_BLOCK_CLAIM = 1024 ** 3
const HUGE_HEADER_CLAIM = 100 * 1024 ** 2
const TRAILING_JUNK_BYTES = 1024 ** 2
/** `hang` holds a request at most this long (a test's client gives up long before). */
const HANG_MAX_MS = 10 * 60_000
/** Random bytes, made once: the junk the hostile faults stream, 64 KiB a write. */
const JUNK = randomBytes(64 * 1024)

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

export interface ProviderInit {
  /** CAR files (paths or bytes) whose DAGs this provider holds. */
  cars: Array<string | Uint8Array>
  protocols?: ProviderProtocol[]
  fault?: ProviderFault
  httpPort?: number
  libp2pPort?: number
  /** Graphsync: the terms its retrieval query answers with (free by default), or how it fails. */
  ask?: BoostAsk
  /**
   * FULLNODE_API_INFO of the Lotus its vouchers are checked with. With it, Graphsync serves priced
   * deals at the ask's terms as a lotus-markets provider did, paid to a wallet of its own;
   * without, priced proposals are refused as Boost does.
   */
  lotus?: string
  /** Paid mode: how long a paused transfer waits for its payment. @default 60000 */
  paymentTimeoutMs?: number
}

/**
 * A Filecoin storage provider on loopback, as Boost presents itself to retrievers: a trustless
 * HTTP gateway (booster-http: `GET /ipfs/{cid}` answered with a DFS CAR) and booster-bitswap (a
 * libp2p peer serving the same blocks over Bitswap). Faults make it misbehave on purpose, per
 * request, so retrieval failover can be tested against real wire traffic.
 */
export async function startProvider(init: ProviderInit) {
  const protocols = init.protocols ?? ['http', 'bitswap']
  let fault: ProviderFault = init.fault ?? 'none'
  const blocks = new Map<string, { cid: CID; bytes: Uint8Array }>()
  const roots: CID[] = []
  // Each CAR is one piece: a query answers for any block a piece holds, with the piece's size.
  const pieces: Array<{ keys: Set<string>; size: bigint }> = []
  for (const car of init.cars) {
    const bytes = typeof car === 'string' ? await readFile(car) : car
    const iter = await CarBlockIterator.fromBytes(bytes)
    roots.push(...(await iter.getRoots()))
    const piece = { keys: new Set<string>(), size: 0n }
    for await (const block of iter) {
      blocks.set(multihashKey(block.cid), block)
      piece.keys.add(multihashKey(block.cid))
      piece.size += BigInt(block.bytes.byteLength)
    }
    pieces.push(piece)
  }
  const stats = {
    httpRequests: 0,
    inFlight: 0,
    maxInFlight: 0,
    bitswapWants: 0,
    blocksServed: 0,
    graphsyncRequests: 0,
    graphsyncAccepted: 0,
    graphsyncRejected: 0,
    graphsyncInFlight: 0,
    graphsyncMaxInFlight: 0,
    completesSent: 0,
    queriesAnswered: 0,
    proposalsReceived: 0,
    paymentsRequested: 0,
    vouchersReceived: 0,
    vouchersRejected: 0,
    amountPaid: 0n,
    lastNonceByLane: {} as Record<string, bigint>,
    /** Junk bytes the hostile faults wrote (what reached the socket; the client may stop reading sooner). */
    junkBytesSent: 0
  }
  const get = async (cid: CID) => blocks.get(multihashKey(cid))?.bytes

  const app = new Hono()
  app.get('/ipfs/:cid', async (c) => {
    stats.httpRequests++
    if (fault === 'hang') {
      // Hold the request open without a byte of answer; the client's first-byte timeout must end it.
      stats.inFlight++
      try {
        await new Promise<void>((resolve) => {
          const signal = c.req.raw.signal
          const timer = setTimeout(resolve, HANG_MAX_MS)
          if (signal.aborted) resolve()
          signal.addEventListener('abort', () => {
            clearTimeout(timer)
            resolve()
          })
        })
      } finally {
        stats.inFlight--
      }
      return c.text('gave up hanging', 504)
    }
    if (fault === 'status404') return c.text('not found', 404)
    if (fault === 'status500') return c.text('internal error', 500)
    if (fault === 'reject') return c.text('access denied', 403)
    let root: CID
    try {
      root = CID.parse(c.req.param('cid'))
    } catch {
      return c.text('invalid cid', 400)
    }
    if (!blocks.has(multihashKey(root))) return c.text('not found', 404)
    const currentFault = fault
    const bytesPerSecond = currentFault.startsWith('slow:') ? Number(currentFault.slice(5)) : 0
    c.header('Content-Type', 'application/vnd.ipld.car;version=1;order=dfs;dups=n')
    c.header('X-Content-Type-Options', 'nosniff')
    return stream(c, async (out) => {
      // In flight from the first byte to the last: what a concurrency limit must bound.
      stats.inFlight++
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight)
      try {
        if (currentFault.startsWith('delay:')) await sleep(Number(currentFault.slice(6)))
        if (currentFault === 'huge-block' || currentFault === 'huge-header') {
          // The prefix claims what the provider never has: a reader that trusts it buffers it all.
          const claim =
            currentFault === 'huge-block'
              ? concat([
                  encodeFrame(dagCbor.encode({ version: 1, roots: [root] })).subarray(),
                  uvarintBytes(HUGE_BLOCK_CLAIM),
                  root.bytes
                ])
              : uvarintBytes(HUGE_HEADER_CLAIM)
          await out.write(claim)
          const total = currentFault === 'huge-block' ? HUGE_BLOCK_CLAIM : HUGE_HEADER_CLAIM
          for (let sent = 0; sent < total && !out.aborted; sent += JUNK.byteLength) {
            await out.write(JUNK)
            stats.junkBytesSent += JUNK.byteLength
          }
          return
        }
        const { writer, out: carBytes } = CarWriter.create([root])
        const pump = (async () => {
          let n = 0
          for await (const step of walkDag(root, get)) {
            if (step.bytes === undefined) break
            n++
            if (currentFault === 'truncate' && n > 2) break
            const bytes = currentFault === 'wrong-block' && n === 2 ? step.bytes.map((b) => b ^ 0xff) : step.bytes
            await writer.put({ cid: step.cid, bytes })
            stats.blocksServed++
          }
          await writer.close()
        })()
        for await (const chunk of carBytes) {
          if (out.aborted) break
          await out.write(chunk)
          if (bytesPerSecond > 0) await sleep((chunk.byteLength / bytesPerSecond) * 1000)
        }
        await pump
        if (currentFault === 'trailing-junk' && !out.aborted) {
          for (let sent = 0; sent < TRAILING_JUNK_BYTES && !out.aborted; sent += JUNK.byteLength) {
            await out.write(JUNK)
            stats.junkBytesSent += JUNK.byteLength
          }
        }
        if (currentFault === 'truncate') out.abort()
      } finally {
        stats.inFlight--
      }
    })
  })

  const http = protocols.includes('http') ? await serveLoopback(app, init.httpPort) : undefined
  const libp2p = await createLibp2p({
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${init.libp2pPort ?? 0}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const noListeners = () => () => {}
  const bitswap = protocols.includes('bitswap')
    ? createBitswapServer({
        libp2p: libp2p as never,
        blocks: {
          has: async (cid) => fault !== 'reject' && blocks.has(multihashKey(cid)),
          get: async (cid) => {
            stats.bitswapWants++
            if (fault.startsWith('delay:')) await sleep(Number(fault.slice(6)))
            return fault === 'reject' ? undefined : get(cid)
          },
          onBlock: noListeners
        },
        policy: { current: () => ({ version: 0 }), subscribe: noListeners, isDenied: () => false }
      })
    : undefined
  await bitswap?.start()
  // Boost's graphsync faults: truncate resets the stream midway, wrong-block sends a block outside
  // the selector, reject and too-many-deals refuse the deal with Boost's words.
  const graphsyncFault = (): GraphsyncFault =>
    fault === 'truncate'
      ? 'reset'
      : fault === 'wrong-block' || fault === 'reject' || fault === 'too-many-deals'
        ? fault
        : 'none'
  // slow:<bytes/s> paces the blocks graphsync reads; delay:<ms> holds each request before it is answered.
  const pacedGet = async (cid: CID) => {
    const bytes = await get(cid)
    const bytesPerSecond = fault.startsWith('slow:') ? Number(fault.slice(5)) : 0
    if (bytes !== undefined && bytesPerSecond > 0) await sleep((bytes.byteLength / bytesPerSecond) * 1000)
    return bytes
  }
  // Paid mode: a wallet key of its own (kept in memory only) that the vouchers pay.
  const paymentAddress = init.lotus === undefined ? undefined : addressOfKey(generatePrivateKey())
  const graphsync = protocols.includes('graphsync')
    ? createBoostGraphsync({
        libp2p: libp2p as never,
        get: pacedGet,
        fault: graphsyncFault,
        beforeAnswer: async () => {
          if (fault.startsWith('delay:')) await sleep(Number(fault.slice(6)))
        },
        stats,
        ask: init.ask,
        ...(init.lotus !== undefined && paymentAddress !== undefined
          ? {
              paid: {
                checker: createVoucherChecker({ apiInfo: init.lotus, paymentAddress }),
                paymentAddress,
                ...(init.paymentTimeoutMs !== undefined ? { paymentTimeoutMs: init.paymentTimeoutMs } : {})
              }
            }
          : {}),
        // As Boost: any payload CID inside a piece it holds (not only a root) is Available, with the
        // piece's unpadded size (a stand-in's piece is its CAR's blocks, without padding).
        sizeOf: async (cid) => pieces.find((p) => p.keys.has(multihashKey(cid)))?.size
      })
    : undefined
  await graphsync?.start()
  const peerId = libp2p.peerId.toString()
  const multiaddrs = libp2p.getMultiaddrs().map((m) => m.toString())
  const httpUrl = http?.url ?? ''
  return {
    peerId,
    multiaddrs,
    httpUrl,
    /** Paid mode: the wallet address vouchers must pay (f1…), as its query answer gives it. */
    paymentAddress: paymentAddress === undefined ? undefined : formatAddress(paymentAddress),
    roots,
    libp2p,
    stats,
    /** The HTTP endpoint as IPNI advertises it (/ip4/127.0.0.1/tcp/PORT/http). */
    httpMultiaddr: http ? `/ip4/127.0.0.1/tcp/${http.port}/http` : undefined,
    setFault(next: ProviderFault) {
      fault = next
      graphsync?.resetFaultCounter()
    },
    async close() {
      await graphsync?.stop()
      await bitswap?.stop()
      await libp2p.stop()
      await http?.close()
    }
  }
}

export type ProviderStandIn = Awaited<ReturnType<typeof startProvider>>
