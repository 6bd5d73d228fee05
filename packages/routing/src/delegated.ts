import type { Logger } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'
import { candidateFromRecord } from './candidates.ts'
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './constants.ts'
import { IndexerResponseError } from './errors.ts'
import { ProviderGrouper } from './group.ts'
import { isNdjson, openLookup, readJson } from './http.ts'
import { ndjsonBatches } from './ndjson.ts'
import type { Candidate, CandidateSource, Fetch } from './types.ts'

export interface DelegatedRoutingSourceInit {
  /** The routing server, e.g. https://cid.contact or https://delegated-ipfs.dev. */
  endpointUrl: string
  selfPeerId?: string
  /** @default 5000 (DEFAULT_LOOKUP_TIMEOUT_MS) */
  timeoutMs?: number
}

/**
 * Delegated Routing V1: `GET {endpoint}/routing/v1/providers/{cid}`, NDJSON streamed or JSON
 * `{"Providers": [...]}` (null allowed), whichever the server answers; 404 = none. Same errors
 * and grouping as the IPNI source.
 */
export function createDelegatedRoutingSource(
  components: { logger?: Logger; fetch?: Fetch },
  init: DelegatedRoutingSourceInit
): CandidateSource {
  if (typeof init?.endpointUrl !== 'string' || !/^https?:\/\//.test(init.endpointUrl)) {
    throw new TypeError(`createDelegatedRoutingSource: endpointUrl must be an http(s) URL`)
  }
  const fetchFn = components.fetch ?? globalThis.fetch
  const base = init.endpointUrl.replace(/\/+$/, '')
  return {
    async *find(cid: CID, options = {}) {
      const url = `${base}/routing/v1/providers/${cid.toString()}`
      const root = cid.toString()
      const lookup = await openLookup(fetchFn, url, {
        accept: 'application/x-ndjson, application/json;q=0.9',
        timeoutMs: init.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS,
        signal: options.signal
      })
      const grouper = new ProviderGrouper(init.selfPeerId)
      const toCandidates = (records: unknown[]) =>
        grouper.group(
          records.map((r) => candidateFromRecord(r, root, url)).filter((c): c is Candidate => c !== undefined)
        )
      try {
        const res = lookup.res
        if (res === undefined) return
        if (isNdjson(res)) {
          if (res.body === null) return
          for await (const batch of ndjsonBatches(res.body, url)) yield* toCandidates(batch)
          return
        }
        const body = await readJson(res, url)
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          throw new IndexerResponseError(`${url}: the answer is not an object`)
        }
        const providers = (body as { Providers?: unknown }).Providers ?? []
        if (!Array.isArray(providers)) throw new IndexerResponseError(`${url}: Providers is not a list`)
        yield* toCandidates(providers)
      } catch (err) {
        throw lookup.translate(err)
      } finally {
        await lookup.close()
      }
    }
  }
}
