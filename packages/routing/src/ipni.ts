import type { Logger } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'
import { candidateFromResult } from './candidates.ts'
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './constants.ts'
import { IndexerResponseError } from './errors.ts'
import { ProviderGrouper } from './group.ts'
import { isNdjson, openLookup, readJson } from './http.ts'
import { decodeBase64 } from './metadata.ts'
import { ndjsonBatches } from './ndjson.ts'
import type { Candidate, CandidateSource, Fetch } from './types.ts'

export interface IpniSourceInit {
  /** The indexer, e.g. https://cid.contact. */
  endpointUrl: string
  /** Our own peer ID: never a candidate (Estuary advertised autoretrieve nodes into IPNI). */
  selfPeerId?: string
  /** For the whole lookup, headers and body. @default 5000 (DEFAULT_LOOKUP_TIMEOUT_MS) */
  timeoutMs?: number
  /** Ask for NDJSON, so candidates stream as the indexer finds them. @default true */
  preferNdjson?: boolean
}

const ACCEPT_NDJSON = 'application/x-ndjson, application/json;q=0.9'

/**
 * IPNI find: `GET {endpoint}/cid/{cid}`. With NDJSON (asked for by default; the server may still
 * answer JSON) candidates are yielded as their lines arrive; with JSON once the answer is read.
 * One candidate per provider (see ProviderGrouper). 404 is an empty stream. Errors:
 * IndexerResponseError (a broken answer), IndexerUnavailableError (unreachable, 5xx),
 * IndexerTimeoutError, or the signal's reason when the caller aborts. Breaking out of the loop
 * cancels the request.
 */
export function createIpniSource(
  components: { logger?: Logger; fetch?: Fetch },
  init: IpniSourceInit
): CandidateSource {
  if (typeof init?.endpointUrl !== 'string' || !/^https?:\/\//.test(init.endpointUrl)) {
    throw new TypeError(`createIpniSource: endpointUrl must be an http(s) URL, got ${String(init?.endpointUrl)}`)
  }
  const fetchFn = components.fetch ?? globalThis.fetch
  const base = init.endpointUrl.replace(/\/+$/, '')
  const timeoutMs = init.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS
  const { logger } = components

  return {
    async *find(cid: CID, options = {}) {
      const url = `${base}/cid/${cid.toString()}`
      const root = cid.toString()
      const lookup = await openLookup(fetchFn, url, {
        accept: init.preferNdjson === false ? 'application/json' : ACCEPT_NDJSON,
        timeoutMs,
        signal: options.signal
      })
      const grouper = new ProviderGrouper(init.selfPeerId)
      const toCandidates = (results: unknown[]): Candidate[] => {
        const found: Candidate[] = []
        for (const r of results) {
          const c = candidateFromResult(r, root, url, logger)
          if (c !== undefined) found.push(c)
        }
        return grouper.group(found)
      }
      let count = 0
      try {
        const res = lookup.res
        if (res === undefined) {
          logger?.debug({ cid: root }, 'indexer knows no provider')
          return
        }
        if (isNdjson(res)) {
          if (res.body === null) return
          for await (const batch of ndjsonBatches(res.body, url)) {
            for (const c of toCandidates(batch)) {
              count++
              yield c
            }
          }
        } else {
          for (const c of toCandidates(providerResults(await readJson(res, url), url, cid))) {
            count++
            yield c
          }
        }
        logger?.debug({ cid: root, candidates: count }, 'indexer lookup done')
      } catch (err) {
        throw lookup.translate(err)
      } finally {
        await lookup.close()
      }
    }
  }
}

/** The ProviderResults of a JSON FindResponse, for the requested multihash only. */
function providerResults(body: unknown, url: string, cid: CID): unknown[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new IndexerResponseError(`${url}: the answer is not a FindResponse object`)
  }
  const results = (body as { MultihashResults?: unknown }).MultihashResults
  if (results === undefined || results === null) return []
  if (!Array.isArray(results)) throw new IndexerResponseError(`${url}: MultihashResults is not a list`)
  const out: unknown[] = []
  for (const [i, entry] of results.entries()) {
    if (entry === null || typeof entry !== 'object') {
      throw new IndexerResponseError(`${url}: MultihashResults[${i}] is not an object`)
    }
    const { Multihash, ProviderResults } = entry as { Multihash?: unknown; ProviderResults?: unknown }
    if (Multihash !== undefined && typeof Multihash !== 'string') {
      throw new IndexerResponseError(`${url}: MultihashResults[${i}].Multihash is not a string`)
    }
    // A batch answer may carry other multihashes; a missing Multihash is taken as ours.
    if (typeof Multihash === 'string') {
      const mh = decodeBase64(Multihash, `${url}: MultihashResults[${i}].Multihash`)
      if (!Buffer.from(mh).equals(cid.multihash.bytes)) continue
    }
    if (ProviderResults === undefined || ProviderResults === null) continue
    if (!Array.isArray(ProviderResults)) {
      throw new IndexerResponseError(`${url}: MultihashResults[${i}].ProviderResults is not a list`)
    }
    out.push(...ProviderResults)
  }
  return out
}
