import {
  classifyProviderError,
  createFreeRetrievalProposal,
  createTransferPullRequest,
  EXTENSION_DATA_TRANSFER,
  findTransferMessage,
  interpretTransferMessage,
  queryProvider,
  transferMessageToNode,
  transferOutcomeError
} from '@autoretrieve/filecoin'
import {
  EXPLORE_ALL_RECURSIVELY,
  type Graphsync,
  LinkAction,
  ReceiveError,
  RemoteIncorrectResponseError,
  RequestCancelledError,
  RequestFailedError
} from '@autoretrieve/graphsync'
import type { Candidate } from '@autoretrieve/routing'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'
import { AttemptError } from '../errors.ts'
import type { AdapterBlock, AdapterContext, ProtocolAdapter } from '../types.ts'

/**
 * Deal and transfer IDs must be unique per (client, provider); like Go clients we start from the
 * clock in nanoseconds and count up, so IDs stay unique across restarts too.
 */
let lastId = BigInt(Date.now()) * 1_000_000n
const nextId = () => ++lastId

/**
 * Graphsync with Filecoin data-transfer, the way Lassie retrieves from Boost: one Graphsync New
 * request for the whole DAG carrying a free `RetrievalDealProposal/1` in the `fil/data-transfer/1.1`
 * extension. Blocks arrive in traversal order, already checked against the selector walk by the
 * Graphsync requester; the engine checks them again as an ordered stream. A rejection's reason is
 * the provider's own message, classed for the metrics (rejected, too many deals, maintenance,
 * access control).
 */
export function createGraphsyncAdapter(components: {
  libp2p: Pick<Libp2p, 'dial' | 'dialProtocol'>
  graphsync: Pick<Graphsync, 'request'>
}): ProtocolAdapter {
  return {
    protocol: 'graphsync',
    ordered: true,
    supports: (c: Candidate) => c.addrs.some((a) => !a.includes('/http')),
    // The query phase (data-transfer.md §7): the provider's terms, asked before any proposal.
    query(candidate, root, options) {
      const peer = peerIdFromString(candidate.peerId)
      const addrs = candidate.addrs.filter((a) => !a.includes('/http')).map((a) => multiaddr(a))
      return queryProvider(
        (protocol, opts) => components.libp2p.dialProtocol(addrs.length > 0 ? addrs : peer, protocol, opts),
        root,
        options
      )
    },
    async *retrieve(candidate: Candidate, root: CID, ctx: AdapterContext): AsyncGenerator<AdapterBlock> {
      const peer = peerIdFromString(candidate.peerId)
      try {
        const addrs = candidate.addrs.filter((a) => !a.includes('/http')).map((a) => multiaddr(a))
        await components.libp2p.dial(addrs.length > 0 ? addrs : peer, { signal: ctx.signal })
      } catch (cause) {
        if (ctx.signal.aborted) throw cause
        throw new AttemptError('connect_failed', `graphsync to ${candidate.peerId}: ${(cause as Error).message}`, {
          cause
        })
      }
      ctx.onConnected()
      const selector = EXPLORE_ALL_RECURSIVELY
      const proposal = createFreeRetrievalProposal({ payloadCid: root, id: nextId(), selector })
      const request = createTransferPullRequest({ root, selector, voucher: proposal, transferId: nextId() })
      // A provider may refuse in an informational message before its terminal status: keep it.
      let refusal: Error | undefined
      // go-graphsync answers a block it lacks with a Missing link and goes on with the next one;
      // the ordered walk cannot pass the hole, so stop there and say what is missing.
      let hole: AttemptError | undefined
      const requestAbort = new AbortController()
      const signal = AbortSignal.any([ctx.signal, requestAbort.signal])
      try {
        for await (const block of components.graphsync.request(peer, root, selector, {
          signal,
          extensions: { [EXTENSION_DATA_TRANSFER]: transferMessageToNode(request) },
          getLocal: ctx.getLocal,
          onResponse: (rsp) => {
            const missing = rsp.metadata?.find((m) => m.action === LinkAction.Missing)
            if (missing !== undefined && hole === undefined) {
              hole = new AttemptError('incomplete', `graphsync from ${candidate.peerId}: no block ${missing.link}`)
              requestAbort.abort(hole)
            }
            let message: ReturnType<typeof findTransferMessage>
            try {
              message = findTransferMessage(rsp.extensions)
            } catch {
              return // an undecodable extension: the Graphsync status still tells the outcome
            }
            if (message === undefined) return
            const err = transferOutcomeError(interpretTransferMessage(message), candidate.peerId)
            if (err !== undefined && refusal === undefined) {
              refusal = err
              // Payment asked or deal cancelled mid-transfer: stop rather than wait for more.
              if (rsp.status < 20) requestAbort.abort(err)
            }
          }
        })) {
          // The requester made the CID from the block's prefix by hashing its data.
          yield { cid: block.cid, bytes: block.bytes, hashed: true }
        }
      } catch (cause) {
        if (ctx.signal.aborted) throw cause
        if (hole !== undefined) throw hole
        const err = refusal ?? cause
        if (cause instanceof ReceiveError)
          throw new AttemptError('incomplete', `graphsync from ${candidate.peerId}: ${cause.message}`, { cause })
        if (cause instanceof RemoteIncorrectResponseError)
          throw new AttemptError('unexpected_block', `graphsync from ${candidate.peerId}: ${cause.message}`, { cause })
        if (cause instanceof RequestFailedError || refusal !== undefined || cause instanceof RequestCancelledError) {
          const errorClass = classifyProviderError(cause instanceof RequestFailedError ? cause : err)
          const status = cause instanceof RequestFailedError ? ` (graphsync status ${cause.status})` : ''
          throw new AttemptError(
            errorClass === 'other' && cause instanceof RequestFailedError && cause.status === 34
              ? 'not_found'
              : errorClass,
            `graphsync from ${candidate.peerId}: ${(err as Error).message}${status}`,
            { cause: err }
          )
        }
        throw new AttemptError('other', `graphsync from ${candidate.peerId}: ${(cause as Error).message}`, { cause })
      }
    }
  }
}
