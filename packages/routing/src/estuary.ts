import { CID } from 'multiformats/cid'
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './constants.ts'
import { IndexerResponseError } from './errors.ts'
import { getWithTimeout } from './http.ts'
import type { CandidateSource, Fetch, Logger, MinerResolver } from './types.ts'

/**
 * Estuary's retrieval candidates: `GET {url}/{cid}` answers a list (or null) of
 * `{Miner, RootCid, DealID}`. Miners resolve to peers through Lotus; as in the Go node, a miner
 * that cannot be resolved fails the lookup, naming it. Each candidate is retrieved over graphsync
 * with Estuary's RootCid as the payload root.
 */
export function createEstuarySource(
  components: { logger?: Logger; fetch?: Fetch; resolver: MinerResolver },
  init: { endpointUrl: string; timeoutMs?: number }
): CandidateSource {
  const fetchFn = components.fetch ?? fetch
  const base = init.endpointUrl.replace(/\/+$/, '')
  return {
    async *find(cid, options = {}) {
      const url = `${base}/${cid.toString()}`
      const res = await getWithTimeout(fetchFn, url, {
        accept: 'application/json',
        timeoutMs: init.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
        signal: options.signal
      })
      if (res.status === 404) return
      if (!res.ok) throw new IndexerResponseError(`${url}: HTTP ${res.status}`)
      let body: unknown
      try {
        body = await res.json()
      } catch (cause) {
        throw new IndexerResponseError(`${url}: the answer is not JSON`, { cause })
      }
      if (body === null) return
      if (!Array.isArray(body)) throw new IndexerResponseError(`${url}: expected a list of candidates`)
      for (const item of body) {
        const miner = (item as { Miner?: unknown })?.Miner
        const root = (item as { RootCid?: { '/'?: unknown } })?.RootCid?.['/']
        if (typeof miner !== 'string' || typeof root !== 'string') {
          throw new IndexerResponseError(`${url}: a candidate lacks Miner or RootCid`)
        }
        try {
          CID.parse(root)
        } catch (cause) {
          throw new IndexerResponseError(`${url}: RootCid ${root} is not a CID`, { cause })
        }
        const peer = await components.resolver.resolve(miner, options)
        yield {
          peerId: peer.peerId,
          minerAddress: miner,
          addrs: peer.addrs,
          protocols: ['graphsync'],
          httpUrls: [],
          rootCid: root,
          source: 'estuary'
        }
      }
    }
  }
}
