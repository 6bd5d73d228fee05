import { CarBlockTooLargeError, CarHeaderTooLargeError, type CarStream, readCar } from '@autoretrieve/dag'
import type { Candidate } from '@autoretrieve/routing'
import type { CID } from 'multiformats/cid'
import { AttemptError } from '../errors.ts'
import type { AdapterBlock, AdapterContext, ProtocolAdapter } from '../types.ts'

export const CAR_ACCEPT = 'application/vnd.ipld.car;version=1;order=dfs;dups=y'

/**
 * Trustless gateway retrieval: `GET {url}/ipfs/{root}?dag-scope=all` for a DFS CAR, streamed
 * block by block through the bounded CAR reader (`readCar`): a header over 64 KiB fails the attempt
 * `header_too_large`, a block over 2 MiB `block_too_large`, each as soon as its length prefix is
 * read. The engine stops reading once the DAG is complete, which cancels the body (junk after it
 * is never read). On a retry it starts the CAR again; the cache skips blocks it already holds.
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
      const body = res.body as unknown as AsyncIterable<Uint8Array>
      let car: CarStream
      try {
        car = await readCar(body, { label: url })
      } catch (cause) {
        await res.body.cancel().catch(() => {})
        if (ctx.signal.aborted) throw cause
        if (cause instanceof CarHeaderTooLargeError)
          throw new AttemptError('header_too_large', cause.message, { cause })
        throw new AttemptError('bad_response', `${url}: not a CAR: ${(cause as Error).message}`, { cause })
      }
      try {
        for await (const block of car.blocks) yield block
      } catch (cause) {
        if (ctx.signal.aborted || cause instanceof AttemptError) throw cause
        if (cause instanceof CarBlockTooLargeError) throw new AttemptError('block_too_large', cause.message, { cause })
        throw new AttemptError('incomplete', `${url}: the CAR stream broke: ${(cause as Error).message}`, { cause })
      } finally {
        // Stopped early (the DAG is complete, or a limit broke): do not leave the body flowing.
        await res.body.cancel().catch(() => {})
      }
    }
  }
}
