import type { createBitswapClient } from '@autoretrieve/bitswap'
import { blockLinks } from '@autoretrieve/dag'
import type { Candidate } from '@autoretrieve/routing'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'
import { DEFAULT_BITSWAP_WINDOW } from '../constants.ts'
import { AttemptError } from '../errors.ts'
import type { AdapterBlock, AdapterContext, ProtocolAdapter } from '../types.ts'

/**
 * Bitswap directed at one provider: walks the DAG, keeping up to `window` want-blocks in flight.
 * Blocks the cache already holds are read locally and not asked for, so a retry resumes where the
 * last attempt stopped. A DONT_HAVE from the provider fails the attempt.
 */
export function createBitswapAdapter(
  components: { client: ReturnType<typeof createBitswapClient> },
  init: { window?: number } = {}
): ProtocolAdapter {
  const window = init.window ?? DEFAULT_BITSWAP_WINDOW
  return {
    protocol: 'bitswap',
    ordered: false,
    supports: (c: Candidate) => c.addrs.some((a) => !a.includes('/http')),
    async *retrieve(candidate: Candidate, root: CID, ctx: AdapterContext): AsyncGenerator<AdapterBlock> {
      let session: Awaited<ReturnType<ReturnType<typeof createBitswapClient>['session']>>
      try {
        const addrs = candidate.addrs.filter((a) => !a.includes('/http')).map((a) => multiaddr(a))
        session = await components.client.session(peerIdFromString(candidate.peerId), addrs, { signal: ctx.signal })
      } catch (cause) {
        if (ctx.signal.aborted) throw cause
        throw new AttemptError('connect_failed', `bitswap to ${candidate.peerId}: ${(cause as Error).message}`, {
          cause
        })
      }
      ctx.onConnected()
      try {
        const todo: CID[] = [root]
        let inFlight = 0
        const fill = async () => {
          const batch: CID[] = []
          while (todo.length > 0 && inFlight + batch.length < window) {
            const cid = todo.shift()!
            const local = await ctx.getLocal(cid)
            if (local !== undefined) {
              localQueue.push({ cid, bytes: local, local: true })
              continue
            }
            batch.push(cid)
          }
          if (batch.length > 0) {
            inFlight += batch.length
            await session.want(batch)
          }
        }
        const localQueue: AdapterBlock[] = []
        await fill()
        const events = session.events()[Symbol.asyncIterator]()
        while (true) {
          while (localQueue.length > 0) {
            const block = localQueue.shift()!
            todo.unshift(...blockLinks(block.cid, block.bytes))
            yield block
            await fill()
          }
          if (inFlight === 0 && todo.length === 0) return
          if (inFlight === 0) {
            await fill()
            continue
          }
          const next = await events.next()
          if (next.done) throw new AttemptError('incomplete', `bitswap session with ${candidate.peerId} ended early`)
          const event = next.value
          if (event.type === 'dont-have')
            throw new AttemptError('dont_have', `${candidate.peerId} does not have ${event.cid}`)
          inFlight--
          // Depth first: children of this block go to the front.
          todo.unshift(...blockLinks(event.cid, event.bytes))
          // The client matched it by the multihash it computed from the data: verified on arrival.
          yield { cid: event.cid, bytes: event.bytes, hashed: true }
          await fill()
        }
      } finally {
        await session.close()
      }
    }
  }
}
