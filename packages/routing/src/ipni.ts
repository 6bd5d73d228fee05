import type { CID } from 'multiformats/cid'
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './constants.ts'
import { IndexerResponseError } from './errors.ts'
import { getWithTimeout } from './http.ts'
import { decodeMetadata } from './metadata.ts'
import { multiaddrToHttpUrl } from './multiaddr-url.ts'
import { ndjson } from './ndjson.ts'
import type { Candidate, CandidateSource, Fetch, Logger, TransportProtocol } from './types.ts'

export interface IpniSourceInit {
  endpointUrl: string
  /** Our own peer ID: never a candidate (we would ask ourselves). */
  selfPeerId?: string
  timeoutMs?: number
  preferNdjson?: boolean
}

interface ProviderResult {
  ContextID?: string
  Metadata?: string
  Provider?: { ID?: string; Addrs?: string[] | null }
}

/** One IPNI ProviderResult as a candidate; undefined for one we cannot use (no ID, no known protocol). */
export function candidateFromResult(result: unknown, rootCid: string, what: string): Candidate | undefined {
  if (result === null || typeof result !== 'object')
    throw new IndexerResponseError(`${what}: a provider result is not an object`)
  const r = result as ProviderResult
  const peerId = r.Provider?.ID
  if (typeof peerId !== 'string' || peerId === '') return undefined
  const addrs = r.Provider?.Addrs ?? []
  if (!Array.isArray(addrs) || addrs.some((a) => typeof a !== 'string')) {
    throw new IndexerResponseError(`${what}: Provider.Addrs of ${peerId} is not a list of strings`)
  }
  if (typeof r.Metadata !== 'string' || r.Metadata === '') return undefined
  let entries: ReturnType<typeof decodeMetadata>
  try {
    entries = decodeMetadata(Buffer.from(r.Metadata, 'base64'))
  } catch {
    return undefined // Lassie skips records whose metadata it cannot decode
  }
  const protocols = [...new Set(entries.map((e) => e.protocol).filter((p): p is TransportProtocol => p !== 'unknown'))]
  if (protocols.length === 0) return undefined
  return {
    peerId,
    addrs,
    protocols,
    httpUrls: protocols.includes('http')
      ? addrs.map(multiaddrToHttpUrl).filter((u): u is string => u !== undefined)
      : [],
    graphsync: entries.find((e) => e.graphsync)?.graphsync,
    rootCid,
    source: 'ipni'
  }
}

/**
 * IPNI find (`GET /cid/{cid}`): NDJSON streamed as results arrive when the indexer offers it,
 * JSON otherwise. 404 means no providers. A broken answer is an IndexerResponseError.
 */
export function createIpniSource(
  components: { logger?: Logger; fetch?: Fetch },
  init: IpniSourceInit
): CandidateSource {
  const fetchFn = components.fetch ?? fetch
  const base = init.endpointUrl.replace(/\/+$/, '')
  const timeoutMs = init.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS
  return {
    async *find(cid: CID, options = {}) {
      const url = `${base}/cid/${cid.toString()}`
      const res = await getWithTimeout(fetchFn, url, {
        accept: init.preferNdjson === false ? 'application/json' : 'application/x-ndjson, application/json;q=0.9',
        timeoutMs,
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
      const type = res.headers.get('Content-Type') ?? ''
      const seen = new Set<string>()
      const emit = (result: unknown): Candidate | undefined => {
        const c = candidateFromResult(result, root, url)
        if (c === undefined || c.peerId === init.selfPeerId) return undefined
        const key = `${c.peerId}|${c.protocols.join(',')}|${c.addrs.join(',')}`
        if (seen.has(key)) return undefined
        seen.add(key)
        return c
      }
      if (type.includes('ndjson')) {
        if (res.body === null) return
        for await (const line of ndjson(res.body, url)) {
          const c = emit(line)
          if (c) yield c
        }
        return
      }
      let body: unknown
      try {
        body = await res.json()
      } catch (cause) {
        throw new IndexerResponseError(`${url}: the answer is not JSON`, { cause })
      }
      const results = (body as { MultihashResults?: unknown })?.MultihashResults
      if (results === undefined || results === null) return
      if (!Array.isArray(results)) throw new IndexerResponseError(`${url}: MultihashResults is not a list`)
      for (const mh of results) {
        const providers = (mh as { ProviderResults?: unknown })?.ProviderResults ?? []
        if (!Array.isArray(providers)) throw new IndexerResponseError(`${url}: ProviderResults is not a list`)
        for (const p of providers) {
          const c = emit(p)
          if (c) yield c
        }
      }
    }
  }
}
