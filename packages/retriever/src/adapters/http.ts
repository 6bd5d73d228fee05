import type { Candidate } from '@autoretrieve/routing'
import { CarBlockIterator } from '@ipld/car/iterator'
import type { CID } from 'multiformats/cid'
import { AttemptError } from '../errors.ts'
import type { AdapterBlock, AdapterContext, ProtocolAdapter } from '../types.ts'

export const CAR_ACCEPT = 'application/vnd.ipld.car;version=1;order=dfs;dups=y'

/**
 * Trustless gateway retrieval: `GET {url}/ipfs/{root}?dag-scope=all` for a DFS CAR, streamed
 * block by block through @ipld/car (never buffered whole). On a retry it starts the CAR again;
 * the cache skips re-writing blocks it already holds.
 */
export function createHttpAdapter(components: { fetch?: typeof fetch } = {}): ProtocolAdapter {
  const fetchFn = components.fetch ?? fetch
  return {
    protocol: 'http',
    ordered: true,
    supports: (c: Candidate) => c.httpUrls.length > 0,
    async *retrieve(candidate: Candidate, root: CID, ctx: AdapterContext): AsyncGenerator<AdapterBlock> {
      const url = `${candidate.httpUrls[0]}/ipfs/${root.toString()}?dag-scope=all`
      let res: Response
      try {
        res = await fetchFn(url, { headers: { Accept: CAR_ACCEPT }, signal: ctx.signal })
      } catch (cause) {
        if (ctx.signal.aborted) throw cause
        throw new AttemptError('connect_failed', `${url}: ${(cause as Error).message}`, { cause })
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {})
        throw new AttemptError('http_status', `${url}: HTTP ${res.status}`)
      }
      const type = res.headers.get('Content-Type') ?? ''
      if (!type.startsWith('application/vnd.ipld.car') || res.body === null) {
        await res.body?.cancel().catch(() => {})
        throw new AttemptError('bad_response', `${url}: answered ${type || 'no content type'}, not a CAR`)
      }
      ctx.onConnected()
      let iterator: CarBlockIterator
      try {
        iterator = await CarBlockIterator.fromIterable(res.body as unknown as AsyncIterable<Uint8Array>)
      } catch (cause) {
        if (ctx.signal.aborted) throw cause
        throw new AttemptError('bad_response', `${url}: not a CAR: ${(cause as Error).message}`, { cause })
      }
      try {
        for await (const block of iterator) yield block
      } catch (cause) {
        if (ctx.signal.aborted || cause instanceof AttemptError) throw cause
        throw new AttemptError('incomplete', `${url}: the CAR stream broke: ${(cause as Error).message}`, { cause })
      }
    }
  }
}
