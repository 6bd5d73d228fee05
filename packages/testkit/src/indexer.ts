import { setTimeout as sleep } from 'node:timers/promises'
import { multihashKey } from '@autoretrieve/interface'
import * as dagCbor from '@ipld/dag-cbor'
import { Hono } from 'hono'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { serveLoopback } from './serve-http.ts'

export type IndexerProtocol = 'bitswap' | 'graphsync' | 'http'

export interface IndexerProviderRecord {
  peerId: string
  addrs: string[]
  protocols: IndexerProtocol[]
  /** CIDs this provider has (matched by multihash, as IPNI does); absent = every CID. */
  cids?: string[]
  graphsync?: { pieceCid?: string; verifiedDeal?: boolean; fastRetrieval?: boolean }
}

/**
 * none; garbage (a 200 whose body is broken: truncated JSON, or an NDJSON line cut short);
 * status500; slow:<ms> (headers at once, then each record <ms> apart); delay:<ms> (nothing for <ms>).
 */
export type IndexerFault = 'none' | 'garbage' | 'status500' | `slow:${number}` | `delay:${number}`

/** The piece used when a record names none (the one in the IPNI spec's example). */
const PIECE_CID = 'baga6ea4seaqoy7ign7devyfqxrvcrsutt2luxb3cm35axp6ylqht5iuijuqcmey'

const NAMES: Record<IndexerProtocol, string> = {
  bitswap: 'transport-bitswap',
  graphsync: 'transport-graphsync-filecoinv1',
  http: 'transport-ipfs-gateway-http'
}

/** IPNI metadata bytes for one protocol, laid out as go-libipni writes them (varint code, payload). */
export function encodeMetadata(protocol: IndexerProtocol, gs: IndexerProviderRecord['graphsync'] = {}): Uint8Array {
  if (protocol === 'bitswap') return Uint8Array.of(0x80, 0x12)
  if (protocol === 'http') return Uint8Array.of(0xa0, 0x12, 0x00)
  const body = dagCbor.encode({
    PieceCID: CID.parse(gs.pieceCid ?? PIECE_CID),
    VerifiedDeal: gs.verifiedDeal ?? false,
    FastRetrieval: gs.fastRetrieval ?? true
  })
  return Uint8Array.from([0x90, 0x12, ...body])
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

function parseFault(fault: IndexerFault): { kind: string; ms: number } {
  const [kind, ms] = fault.split(':')
  return { kind, ms: Number(ms ?? 0) }
}

/** What the Accept header asks for, in storetheindex's order of preference; undefined = 406. */
function negotiate(accept: string | undefined): 'ndjson' | 'json' | undefined {
  if (accept === undefined || accept.trim() === '') return 'json'
  const types = accept.split(',').map((t) => t.split(';')[0].trim().toLowerCase())
  if (types.includes('application/x-ndjson')) return 'ndjson'
  if (types.includes('application/json') || types.includes('*/*')) return 'json'
  return undefined
}

/**
 * An IPNI indexer on loopback: `/cid/{cid}` and `/multihash/{base58 mh}` (a JSON FindResponse,
 * or NDJSON ProviderResults when Accept asks), `/routing/v1/providers/{cid}` (Delegated Routing
 * V1 as cid.contact translates it), with real metadata encoding, one ProviderResult per protocol
 * (like Boost's extended providers), 404 when nothing is known and 406 for an Accept it cannot
 * serve. Every request is logged in `requests`. Faults make it misbehave on purpose.
 */
export async function startIndexer(init: { port?: number; providers: IndexerProviderRecord[]; fault?: IndexerFault }) {
  let providers = init.providers
  let fault: IndexerFault = init.fault ?? 'none'
  const requests: Array<{ path: string; accept: string | null }> = []
  const closing = new AbortController()
  /** A pause that ends early, without throwing, when the stand-in closes: no timer outlives it. */
  const pause = (ms: number) => sleep(ms, undefined, { signal: closing.signal }).catch(() => {})
  const app = new Hono()

  const matching = (mh: Uint8Array) =>
    providers.filter((p) => p.cids === undefined || p.cids.some((c) => multihashKey(CID.parse(c)) === multihashKey(mh)))

  const providerResults = (mh: Uint8Array) =>
    matching(mh).flatMap((p) =>
      p.protocols.map((protocol) => ({
        ContextID: b64(Buffer.from(`ctx-${protocol}-${p.peerId.slice(-8)}`)),
        Metadata: b64(encodeMetadata(protocol, p.graphsync)),
        Provider: { ID: p.peerId, Addrs: p.addrs }
      }))
    )

  const drRecords = (mh: Uint8Array) =>
    matching(mh).map((p) => ({
      Schema: 'peer',
      ID: p.peerId,
      Addrs: p.addrs,
      Protocols: p.protocols.map((x) => NAMES[x]),
      ...Object.fromEntries(p.protocols.map((x) => [NAMES[x], b64(encodeMetadata(x, p.graphsync))]))
    }))

  /** NDJSON lines, each `ms` apart when the fault is slow; one broken line when the fault is garbage. */
  const ndjson = (records: unknown[]) => {
    const { kind, ms } = parseFault(fault)
    const lines = records.map((r) => `${JSON.stringify(r)}\n`)
    if (kind === 'garbage') lines.splice(0, lines.length, '{"ContextID": "Y3R4", "Provider": {"ID": \n')
    const encoder = new TextEncoder()
    let i = 0
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i >= lines.length || closing.signal.aborted) return controller.close()
        if (kind === 'slow' && i > 0) await pause(ms)
        if (closing.signal.aborted) return controller.close()
        controller.enqueue(encoder.encode(lines[i++]))
      }
    })
    return new Response(body, {
      headers: { 'Content-Type': 'application/x-ndjson', 'X-Content-Type-Options': 'nosniff' }
    })
  }

  const json = (value: unknown) => {
    const { kind, ms } = parseFault(fault)
    const text = JSON.stringify(value)
    if (kind === 'garbage') {
      return new Response(text.slice(0, Math.max(1, text.length >> 1)), {
        headers: { 'Content-Type': 'application/json; charset=utf-8' }
      })
    }
    if (kind !== 'slow') return new Response(text, { headers: { 'Content-Type': 'application/json; charset=utf-8' } })
    const half = text.length >> 1
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode(text.slice(0, half)))
        await pause(ms)
        try {
          controller.enqueue(new TextEncoder().encode(text.slice(half)))
          controller.close()
        } catch {} // the client went away or the stand-in closed meanwhile
      }
    })
    return new Response(body, { headers: { 'Content-Type': 'application/json; charset=utf-8' } })
  }

  app.use('*', async (c, next) => {
    requests.push({ path: c.req.path, accept: c.req.header('Accept') ?? null })
    const { kind, ms } = parseFault(fault)
    if (kind === 'delay') await pause(ms)
    if (kind === 'status500') return c.text('internal error', 500)
    await next()
  })

  const find = (mh: Uint8Array, accept: string | undefined) => {
    const format = negotiate(accept)
    if (format === undefined) return new Response('unsupported media type', { status: 406 })
    const found = providerResults(mh)
    if (found.length === 0) return new Response('no results for query', { status: 404 })
    if (format === 'ndjson') return ndjson(found)
    return json({ MultihashResults: [{ Multihash: b64(mh), ProviderResults: found }] })
  }

  const cidOf = (text: string) => {
    try {
      return CID.parse(text)
    } catch {
      return undefined
    }
  }

  app.get('/cid/:cid', (c) => {
    const cid = cidOf(c.req.param('cid'))
    if (cid === undefined) return c.text('invalid cid', 400)
    return find(cid.multihash.bytes, c.req.header('Accept'))
  })
  app.get('/multihash/:mh', (c) => {
    let mh: Uint8Array
    try {
      // Lassie sends bare base58btc (no multibase prefix); storetheindex also takes hex.
      const text = c.req.param('mh')
      mh = /^[0-9a-f]+$/i.test(text) ? Buffer.from(text, 'hex') : base58btc.baseDecode(text)
      Digest.decode(mh)
    } catch {
      return c.text('invalid multihash', 400)
    }
    return find(mh, c.req.header('Accept'))
  })
  app.get('/routing/v1/providers/:cid', (c) => {
    const cid = cidOf(c.req.param('cid'))
    if (cid === undefined) return c.text('invalid cid', 400)
    const records = drRecords(cid.multihash.bytes)
    if (records.length === 0) return c.body(null, 404) // as indexstar does
    const format = negotiate(c.req.header('Accept')) ?? 'json'
    if (format === 'ndjson') return ndjson(records)
    return json({ Providers: records })
  })

  const server = await serveLoopback(app, init.port)
  return {
    url: server.url,
    requests,
    setProviders(next: IndexerProviderRecord[]) {
      providers = next
    },
    setFault(next: IndexerFault) {
      fault = next
    },
    close: () => {
      closing.abort()
      return server.close()
    }
  }
}

export type IndexerStandIn = Awaited<ReturnType<typeof startIndexer>>
