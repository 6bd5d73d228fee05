import type { Logger } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './constants.ts'
import { IndexerResponseError } from './errors.ts'
import { openLookup, readJson } from './http.ts'
import type { CandidateSource, Fetch, MinerResolver } from './types.ts'

export interface EstuarySourceInit {
  /** Estuary's candidates endpoint, e.g. https://api.estuary.tech/retrieval-candidates. */
  endpointUrl: string
  /** For the candidates request; miner resolution has its own. @default 5000 (DEFAULT_LOOKUP_TIMEOUT_MS) */
  timeoutMs?: number
}

/** Estuary lists one deal per line; several deals of one miner for one root are one candidate. */
interface Deal {
  miner: string
  root: string
}

function dealsOf(body: unknown, url: string): Deal[] {
  if (body === null) return [] // Estuary's answer when it has no deals
  if (!Array.isArray(body)) throw new IndexerResponseError(`${url}: expected a list of candidates or null`)
  const seen = new Set<string>()
  const deals: Deal[] = []
  for (const [i, item] of body.entries()) {
    const miner = (item as { Miner?: unknown } | null)?.Miner
    const rootLink = (item as { RootCid?: unknown } | null)?.RootCid
    const root = (rootLink as { '/'?: unknown } | null)?.['/']
    if (typeof miner !== 'string' || miner === '')
      throw new IndexerResponseError(`${url}: [${i}].Miner is not a string`)
    if (typeof root !== 'string') throw new IndexerResponseError(`${url}: [${i}].RootCid is not a {"/": cid} link`)
    try {
      CID.parse(root)
    } catch (cause) {
      throw new IndexerResponseError(`${url}: [${i}].RootCid ${root} is not a CID`, { cause })
    }
    const key = `${miner} ${root}`
    if (seen.has(key)) continue
    seen.add(key)
    deals.push({ miner, root })
  }
  return deals
}

/**
 * Estuary's retrieval candidates: `GET {endpoint}/{cid}` answers `[{Miner, RootCid, DealID}]` or
 * null. Each miner is resolved to its peer through the resolver (Lotus); as in the Go node, a
 * miner that cannot be resolved fails the lookup with a MinerResolutionError naming it. The
 * candidate's rootCid is Estuary's RootCid (the content or aggregate holding the CID), to be
 * retrieved over graphsync.
 */
export function createEstuarySource(
  components: { logger?: Logger; fetch?: Fetch; resolver: MinerResolver },
  init: EstuarySourceInit
): CandidateSource {
  if (typeof init?.endpointUrl !== 'string' || !/^https?:\/\//.test(init.endpointUrl)) {
    throw new TypeError('createEstuarySource: endpointUrl must be an http(s) URL')
  }
  if (components?.resolver === undefined) throw new TypeError('createEstuarySource: a miner resolver is required')
  const fetchFn = components.fetch ?? globalThis.fetch
  const base = init.endpointUrl.replace(/\/+$/, '')
  return {
    async *find(cid, options = {}) {
      const url = `${base}/${cid.toString()}`
      const lookup = await openLookup(fetchFn, url, {
        accept: 'application/json',
        timeoutMs: init.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
        signal: options.signal
      })
      let deals: Deal[]
      try {
        deals = lookup.res === undefined ? [] : dealsOf(await readJson(lookup.res, url), url)
      } catch (err) {
        throw lookup.translate(err)
      } finally {
        await lookup.close()
      }
      components.logger?.debug({ cid: cid.toString(), deals: deals.length }, 'estuary candidates')
      // Resolve all miners at once (the resolver caches and shares calls), report in Estuary's order.
      const peers = deals.map((d) => components.resolver.resolve(d.miner, options))
      for (const p of peers) p.catch(() => {}) // the first failure is thrown below; the rest are not unhandled
      for (const [i, deal] of deals.entries()) {
        const peer = await peers[i]
        yield {
          peerId: peer.peerId,
          minerAddress: deal.miner,
          addrs: peer.addrs,
          protocols: ['graphsync'],
          httpUrls: [],
          rootCid: deal.root,
          source: 'estuary'
        }
      }
    }
  }
}
