import * as dagCbor from '@ipld/dag-cbor'
import { Hono } from 'hono'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { serveLoopback } from './serve-http.ts'

export interface IndexerProviderRecord {
  peerId: string
  addrs: string[]
  protocols: Array<'bitswap' | 'graphsync' | 'http'>
  /** CIDs this provider has; absent = every CID. */
  cids?: string[]
  graphsync?: { pieceCid?: string; verifiedDeal?: boolean; fastRetrieval?: boolean }
}

export type IndexerFault = 'none' | 'garbage' | 'status500' | `delay:${number}`

const PIECE_CID = 'baga6ea4seaqoy7ign7devyfqxrvcrsutt2luxb3cm35axp6ylqht5iuijuqcmey'

/** IPNI metadata bytes for one protocol, encoded as go-libipni writes them. */
export function encodeMetadata(
  protocol: 'bitswap' | 'graphsync' | 'http',
  gs: IndexerProviderRecord['graphsync'] = {}
): Uint8Array {
  if (protocol === 'bitswap') return Uint8Array.of(0x80, 0x12)
  if (protocol === 'http') return Uint8Array.of(0xa0, 0x12, 0x00)
  const body = dagCbor.encode({
    PieceCID: CID.parse(gs.pieceCid ?? PIECE_CID),
    VerifiedDeal: gs.verifiedDeal ?? false,
    FastRetrieval: gs.fastRetrieval ?? true
  })
  return Uint8Array.from([0x90, 0x12, ...body])
}

const keyOf = (cid: CID) => base58btc.encode(cid.multihash.bytes)

/**
 * An IPNI indexer on loopback answering `/cid/{cid}` (JSON FindResponse, or NDJSON when asked),
 * `/multihash/{mh}` and `/routing/v1/providers/{cid}` from a list of provider records, with the
 * status codes and encodings of storetheindex / cid.contact. Faults make it misbehave on purpose.
 */
export async function startIndexer(init: { port?: number; providers: IndexerProviderRecord[]; fault?: IndexerFault }) {
  let providers = init.providers
  let fault: IndexerFault = init.fault ?? 'none'
  const requests: Array<{ path: string; accept: string | null }> = []
  const app = new Hono()

  const matching = (cid: CID) =>
    providers.filter((p) => p.cids === undefined || p.cids.some((c) => keyOf(CID.parse(c)) === keyOf(cid)))

  const results = (cid: CID) =>
    matching(cid).flatMap((p) =>
      p.protocols.map((protocol) => ({
        ContextID: Buffer.from(`ctx-${p.peerId.slice(-6)}`).toString('base64'),
        Metadata: Buffer.from(encodeMetadata(protocol, p.graphsync)).toString('base64'),
        Provider: { ID: p.peerId, Addrs: p.addrs }
      }))
    )

  app.use('*', async (c, next) => {
    requests.push({ path: c.req.path, accept: c.req.header('Accept') ?? null })
    if (fault.startsWith('delay:')) await new Promise((r) => setTimeout(r, Number(fault.slice(6))))
    if (fault === 'status500') return c.text('internal error', 500)
    if (fault === 'garbage')
      return c.body('{"MultihashResults": [{"ProviderResults": 17', 200, { 'Content-Type': 'application/json' })
    await next()
  })

  const find = (cid: CID, accept: string) => {
    const found = results(cid)
    if (found.length === 0) return new Response('no results for query', { status: 404 })
    if (accept.includes('application/x-ndjson')) {
      return new Response(found.map((r) => `${JSON.stringify(r)}\n`).join(''), {
        headers: { 'Content-Type': 'application/x-ndjson', 'X-Content-Type-Options': 'nosniff' }
      })
    }
    return Response.json({
      MultihashResults: [{ Multihash: Buffer.from(cid.multihash.bytes).toString('base64'), ProviderResults: found }]
    })
  }

  const parse = (text: string) => {
    try {
      return CID.parse(text)
    } catch {
      return undefined
    }
  }

  app.get('/cid/:cid', (c) => {
    const cid = parse(c.req.param('cid'))
    if (cid === undefined) return c.text('invalid cid', 400)
    return find(cid, c.req.header('Accept') ?? '')
  })
  app.get('/multihash/:mh', (c) => {
    try {
      const cid = CID.createV1(0x55, { bytes: base58btc.decode(c.req.param('mh')) } as never)
      return find(CID.decode(cid.bytes), c.req.header('Accept') ?? '')
    } catch {
      return c.text('invalid multihash', 400)
    }
  })
  app.get('/routing/v1/providers/:cid', (c) => {
    const cid = parse(c.req.param('cid'))
    if (cid === undefined) return c.text('invalid cid', 400)
    const names = {
      bitswap: 'transport-bitswap',
      graphsync: 'transport-graphsync-filecoinv1',
      http: 'transport-ipfs-gateway-http'
    }
    const records = matching(cid).map((p) => ({
      Schema: 'peer',
      ID: p.peerId,
      Addrs: p.addrs,
      Protocols: p.protocols.map((x) => names[x]),
      ...Object.fromEntries(
        p.protocols.map((x) => [names[x], Buffer.from(encodeMetadata(x, p.graphsync)).toString('base64')])
      )
    }))
    if (records.length === 0) return c.body(null, 404)
    if ((c.req.header('Accept') ?? '').includes('ndjson')) {
      return c.body(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 200, {
        'Content-Type': 'application/x-ndjson'
      })
    }
    return c.json({ Providers: records })
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
    close: () => server.close()
  }
}

export type IndexerStandIn = Awaited<ReturnType<typeof startIndexer>>
