import type { CID } from 'multiformats/cid'
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './constants.ts'
import { IndexerResponseError } from './errors.ts'
import { getWithTimeout } from './http.ts'
import { decodeMetadata } from './metadata.ts'
import { multiaddrToHttpUrl } from './multiaddr-url.ts'
import { ndjson } from './ndjson.ts'
import type { Candidate, CandidateSource, Fetch, Logger, TransportProtocol } from './types.ts'

const PROTOCOL_NAMES: Record<string, TransportProtocol> = {
  'transport-bitswap': 'bitswap',
  'transport-graphsync-filecoinv1': 'graphsync',
  'transport-ipfs-gateway-http': 'http'
}

function fromRecord(record: unknown, rootCid: string, what: string): Candidate | undefined {
  if (record === null || typeof record !== 'object')
    throw new IndexerResponseError(`${what}: a provider record is not an object`)
  const r = record as Record<string, unknown>
  if (typeof r.ID !== 'string') return undefined
  const addrs = Array.isArray(r.Addrs) ? r.Addrs.filter((a): a is string => typeof a === 'string') : []
  const names = Array.isArray(r.Protocols) ? r.Protocols : typeof r.Protocol === 'string' ? [r.Protocol] : []
  const protocols = [...new Set(names.map((n) => PROTOCOL_NAMES[String(n)]).filter(Boolean))]
  if (protocols.length === 0) return undefined
  let graphsync: Candidate['graphsync']
  const gsMeta = r['transport-graphsync-filecoinv1']
  if (typeof gsMeta === 'string') {
    try {
      graphsync = decodeMetadata(Buffer.from(gsMeta, 'base64')).find((e) => e.graphsync)?.graphsync
    } catch {}
  } else if (r.PieceCID !== undefined) {
    graphsync = {
      pieceCid: String(r.PieceCID),
      verifiedDeal: r.VerifiedDeal === true,
      fastRetrieval: r.FastRetrieval === true
    }
  }
  return {
    peerId: r.ID,
    addrs,
    protocols,
    httpUrls: protocols.includes('http')
      ? addrs.map(multiaddrToHttpUrl).filter((u): u is string => u !== undefined)
      : [],
    graphsync,
    rootCid,
    source: 'delegated-routing'
  }
}

/** Delegated Routing V1: `GET /routing/v1/providers/{cid}`, NDJSON or JSON; 404 = none. */
export function createDelegatedRoutingSource(
  components: { logger?: Logger; fetch?: Fetch },
  init: { endpointUrl: string; selfPeerId?: string; timeoutMs?: number }
): CandidateSource {
  const fetchFn = components.fetch ?? fetch
  const base = init.endpointUrl.replace(/\/+$/, '')
  return {
    async *find(cid: CID, options = {}) {
      const url = `${base}/routing/v1/providers/${cid.toString()}`
      const res = await getWithTimeout(fetchFn, url, {
        accept: 'application/x-ndjson, application/json;q=0.9',
        timeoutMs: init.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
        signal: options.signal
      })
      if (res.status === 404) {
        await res.body?.cancel()
        return
      }
      if (!res.ok) {
        await res.body?.cancel()
        throw new IndexerResponseError(`${url}: HTTP ${res.status}`)
      }
      const root = cid.toString()
      const keep = (c: Candidate | undefined) => c !== undefined && c.peerId !== init.selfPeerId
      if ((res.headers.get('Content-Type') ?? '').includes('ndjson') && res.body) {
        for await (const record of ndjson(res.body, url)) {
          const c = fromRecord(record, root, url)
          if (keep(c)) yield c!
        }
        return
      }
      let body: unknown
      try {
        body = await res.json()
      } catch (cause) {
        throw new IndexerResponseError(`${url}: the answer is not JSON`, { cause })
      }
      const providers = (body as { Providers?: unknown })?.Providers ?? []
      if (!Array.isArray(providers)) throw new IndexerResponseError(`${url}: Providers is not a list`)
      for (const record of providers) {
        const c = fromRecord(record, root, url)
        if (keep(c)) yield c!
      }
    }
  }
}
