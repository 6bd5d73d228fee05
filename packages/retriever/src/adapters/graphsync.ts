import { addressFromBytes, formatAddress } from '@autoretrieve/chain'
import {
  classifyProviderError,
  createFreeRetrievalProposal,
  createPaidRetrievalProposal,
  createTransferPullRequest,
  EXTENSION_DATA_TRANSFER,
  type FilecoinRetrievalTransport,
  findTransferMessage,
  interpretTransferMessage,
  isPricedAsk,
  queryProvider,
  queryTotalCost,
  type TransferMessage,
  transferMessageToNode,
  transferOutcomeError
} from '@autoretrieve/filecoin'
import {
  EXPLORE_ALL_RECURSIVELY,
  LinkAction,
  ReceiveError,
  RemoteIncorrectResponseError,
  RequestCancelledError,
  RequestFailedError,
  ResponseStatus
} from '@autoretrieve/graphsync'
import type { Candidate } from '@autoretrieve/routing'
import type { Libp2p } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'
import { DEFAULT_PAYMENT_WAIT_MS } from '../constants.ts'
import { AttemptError } from '../errors.ts'
import type { AdapterBlock, AdapterContext, ProtocolAdapter } from '../types.ts'
import { DealPayer } from './payer.ts'

/**
 * Deal and transfer IDs must be unique per (client, provider); like Go clients we start from the
 * clock in nanoseconds and count up, so IDs stay unique across restarts too.
 */
let lastId = BigInt(Date.now()) * 1_000_000n
const nextId = () => ++lastId

/**
 * Graphsync with Filecoin data-transfer, the way Lassie retrieves from Boost: one Graphsync New
 * request for the whole DAG carrying a `RetrievalDealProposal/1` in the `fil/data-transfer/1.1`
 * extension, free, or at the provider's queried terms when the attempt pays (`ctx.payment`).
 * Blocks arrive in traversal order, already checked against the selector walk by the Graphsync
 * requester; the engine checks them again as an ordered stream. A rejection's reason is the
 * provider's own message, classed for the metrics (rejected, too many deals, maintenance, access
 * control). The provider's data-transfer messages come in Graphsync extensions and on streams of
 * its own (routed here by the transport); a paid deal is paid from them (payer.ts), and a demand
 * for payment on a free deal is `overcharged`.
 */
export function createGraphsyncAdapter(
  components: {
    libp2p: Pick<Libp2p, 'dial' | 'dialProtocol'>
    graphsync: Pick<FilecoinRetrievalTransport, 'request' | 'route' | 'send'>
  },
  init: {
    /** How long a demand for payment may wait for the verified bytes that justify it. @default DEFAULT_PAYMENT_WAIT_MS */
    paymentWaitMs?: number
  } = {}
): ProtocolAdapter {
  const paymentWaitMs = init.paymentWaitMs ?? DEFAULT_PAYMENT_WAIT_MS
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
      const provider = candidate.peerId
      try {
        const addrs = candidate.addrs.filter((a) => !a.includes('/http')).map((a) => multiaddr(a))
        await components.libp2p.dial(addrs.length > 0 ? addrs : peer, { signal: ctx.signal })
      } catch (cause) {
        if (ctx.signal.aborted) throw cause
        throw new AttemptError('connect_failed', `graphsync to ${provider}: ${(cause as Error).message}`, {
          cause
        })
      }
      ctx.onConnected()
      const selector = EXPLORE_ALL_RECURSIVELY
      const dealId = nextId()
      const transferId = nextId()
      const { ask, payment } = ctx
      const priced = ask !== undefined && payment !== undefined && isPricedAsk(ask)
      const proposal = priced
        ? createPaidRetrievalProposal({ payloadCid: root, id: dealId, selector, ask })
        : createFreeRetrievalProposal({ payloadCid: root, id: dealId, selector })
      const request = createTransferPullRequest({ root, selector, voucher: proposal, transferId })
      // A provider may refuse in an informational message before its terminal status: keep it.
      let refusal: Error | undefined
      // go-graphsync answers a block it lacks with a Missing link and goes on with the next one;
      // the ordered walk cannot pass the hole, so stop there and say what is missing.
      let hole: AttemptError | undefined
      // A payment that could not be made, or a demand that should not be: ends the attempt.
      let paymentFailure: AttemptError | undefined
      let completed = false
      const requestAbort = new AbortController()
      const signal = AbortSignal.any([ctx.signal, requestAbort.signal])
      let payer: DealPayer | undefined
      if (priced) {
        let paymentAddress: string
        try {
          paymentAddress = formatAddress(addressFromBytes(ask.paymentAddress))
        } catch (cause) {
          throw new AttemptError('paych', `${provider} gave no usable payment address: ${(cause as Error).message}`, {
            cause
          })
        }
        const total = queryTotalCost(ask)
        const cap = payment.maxRetrievalCost
        payer = new DealPayer({
          provider,
          paymentAddress,
          dealId,
          transferId,
          pricePerByte: ask.minPricePerByte,
          unsealPrice: ask.unsealPrice,
          maxTotal: cap !== undefined && cap < total ? cap : total,
          payment,
          send: (message, s) => components.graphsync.send(peer, message, { signal: s }),
          signal,
          waitMs: paymentWaitMs,
          ...(ctx.hold !== undefined ? { hold: ctx.hold } : {}),
          fail: (err) => {
            paymentFailure ??= err
            requestAbort.abort(err)
          }
        })
      }
      /** One message from the provider about this transfer, from an extension or its own stream. */
      const onMessage = (message: TransferMessage, terminal: boolean) => {
        const outcome = interpretTransferMessage(message)
        if (outcome.transferId !== transferId) return
        if (outcome.kind === 'completed') completed = true
        if (outcome.kind === 'accepted') payer?.open()
        if (outcome.kind === 'paused-for-payment') {
          if (payer !== undefined) return payer.demanded(outcome.paymentOwed ?? 0n)
          paymentFailure ??= new AttemptError(
            'overcharged',
            `${provider} asks ${outcome.paymentOwed ?? 0n} attoFIL for a deal proposed free`
          )
          return requestAbort.abort(paymentFailure)
        }
        const err = transferOutcomeError(outcome, provider)
        if (err !== undefined && refusal === undefined) {
          refusal = err
          // Deal cancelled or failed mid-transfer: stop rather than wait for more.
          if (!terminal) requestAbort.abort(err)
        }
      }
      let unroute: () => void = () => {}
      try {
        unroute = components.graphsync.route(provider, transferId, (message) => {
          try {
            onMessage(message, false)
          } catch {
            // a voucher result we cannot read: the Graphsync status still tells the outcome
          }
        })
      } catch (cause) {
        throw new AttemptError('other', `graphsync to ${provider}: ${(cause as Error).message}`, { cause })
      }
      const blocks = components.graphsync.request(peer, root, selector, {
        signal,
        extensions: { [EXTENSION_DATA_TRANSFER]: transferMessageToNode(request) },
        getLocal: ctx.getLocal,
        onResponse: (rsp) => {
          const missing = rsp.metadata?.find((m) => m.action === LinkAction.Missing)
          if (missing !== undefined && hole === undefined) {
            hole = new AttemptError('incomplete', `graphsync from ${provider}: no block ${missing.link}`)
            requestAbort.abort(hole)
          }
          let message: ReturnType<typeof findTransferMessage>
          try {
            message = findTransferMessage(rsp.extensions)
            if (message !== undefined) onMessage(message, rsp.status >= 20)
          } catch {
            // an undecodable extension: the Graphsync status still tells the outcome
          }
        }
      })
      let failed = false
      try {
        // Iterated by hand, not for-await: when the engine stops reading at the last block, the
        // request must stay open while the last payment is settled (see finally).
        while (true) {
          const next = await blocks.next()
          if (next.done === true) break
          const block = next.value
          // The requester made the CID from the block's prefix by hashing its data: verified bytes.
          payer?.verified(block.bytes.byteLength)
          yield { cid: block.cid, bytes: block.bytes, hashed: true }
        }
      } catch (cause) {
        failed = true
        if (ctx.signal.aborted) throw cause
        if (paymentFailure !== undefined) throw paymentFailure
        if (hole !== undefined) throw hole
        const err = refusal ?? cause
        if (cause instanceof ReceiveError)
          throw new AttemptError('incomplete', `graphsync from ${provider}: ${cause.message}`, { cause })
        if (cause instanceof RemoteIncorrectResponseError)
          throw new AttemptError('unexpected_block', `graphsync from ${provider}: ${cause.message}`, { cause })
        if (cause instanceof RequestFailedError || refusal !== undefined || cause instanceof RequestCancelledError) {
          const errorClass = classifyProviderError(cause instanceof RequestFailedError ? cause : err)
          const status = cause instanceof RequestFailedError ? ` (graphsync status ${cause.status})` : ''
          throw new AttemptError(
            errorClass === 'other' && cause instanceof RequestFailedError && cause.status === 34
              ? 'not_found'
              : errorClass,
            `graphsync from ${provider}: ${(err as Error).message}${status}`,
            { cause: err }
          )
        }
        throw new AttemptError('other', `graphsync from ${provider}: ${(cause as Error).message}`, { cause })
      } finally {
        // The DAG is whole (or the transfer ended): pay what verified bytes still owe when the
        // provider asks for it, bounded, before the request is closed.
        if (payer !== undefined && !failed && !signal.aborted) {
          await payer.settle(() => completed)
          // A provider holds its final status until the last payment: let it finish the response it
          // resumed (no cancel after paying), bounded by the same wait.
          const timer = setTimeout(
            () => requestAbort.abort(new Error('the provider did not end the paid response')),
            paymentWaitMs
          )
          try {
            while (!(await blocks.next()).done) {
              // nothing is left to read: the traversal is whole
            }
          } catch {
            // ended by the wait or by the provider: the data is already verified
          } finally {
            clearTimeout(timer)
          }
        }
        payer?.close()
        unroute()
        // Cancels the request at the provider if it is still open.
        await blocks.return({ status: ResponseStatus.RequestCancelled, missing: [] }).catch(() => {})
        // The provider's last demand went past what it delivered: the attempt fails on it. Only
        // when nothing else is thrown (`failed`: the catch above threw already).
        if (paymentFailure !== undefined && !failed && !ctx.signal.aborted) {
          // biome-ignore lint/correctness/noUnsafeFinally: the engine ended the stream at the last block (a return at the yield), so this is the only place left to fail the attempt
          throw paymentFailure
        }
      }
    }
  }
}
