import { type Address, addressToBytes } from '@autoretrieve/chain'
import {
  DATA_TRANSFER_PROTOCOL,
  DealStatus,
  dealProposalFromNode,
  dealResponseToNode,
  decodeRetrievalQuery,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_INCOMING_REQUEST,
  encodeQueryResponse,
  encodeTransferMessage,
  MessageType,
  QueryResponseStatus,
  RETRIEVAL_QUERY_PROTOCOL,
  readTransferMessages,
  type TransferMessage,
  transferMessageFromNode,
  transferMessageToNode,
  VoucherType
} from '@autoretrieve/filecoin'
import {
  createGraphsync,
  EXPLORE_ALL_RECURSIVELY,
  encodeDagCbor,
  type GraphsyncComponents,
  type GraphsyncInit,
  type GraphsyncMessage,
  type GraphsyncRequest,
  ResponseStatus,
  type ValidationResult
} from '@autoretrieve/graphsync'
import { peerIdFromString } from '@libp2p/peer-id'
import type { CID } from 'multiformats/cid'
import { CID as CIDClass } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  createPaidRetrievals,
  DEFAULT_PAYMENT_INTERVAL,
  DEFAULT_PAYMENT_INTERVAL_INCREASE,
  type PaidRetrievalStats,
  type PaidRetrievals
} from './paid-retrieval.ts'
import type { VoucherChecker } from './voucher-checker.ts'

type Host = GraphsyncComponents['libp2p']
interface QueryStreamLike extends AsyncIterable<Uint8Array | { subarray(): Uint8Array }> {
  send(data: Uint8Array): boolean
  close(): Promise<void>
  abort(err: Error): void
}
/** What a stream handler is given about the connection: who sent it. */
interface ConnectionLike {
  remotePeer: { toString(): string }
}
type PeerId = Parameters<NonNullable<GraphsyncInit['onResponseEnded']>>[1]

export type GraphsyncFault = 'none' | 'reject' | 'too-many-deals' | 'reset' | 'wrong-block' | 'payment'

export interface BoostGraphsyncStats extends PaidRetrievalStats {
  graphsyncRequests: number
  graphsyncAccepted: number
  graphsyncRejected: number
  graphsyncInFlight: number
  graphsyncMaxInFlight: number
  completesSent: number
  /** Retrieval queries (`/fil/retrieval/qry/1.0.0`) answered. */
  queriesAnswered: number
  /** Deal proposals received (every Graphsync request carrying a RetrievalDealProposal voucher). */
  proposalsReceived: number
}

/**
 * How the stand-in answers retrieval queries: with its terms (`answer`), `unavailable` (Status 1,
 * Boost's "no piece contains the payload"), `error` (Status 2 with a message), or `hang` (reads the
 * query and never answers). `none`: the protocol is not registered (a plain go-graphsync peer).
 */
export type QueryMode = 'answer' | 'unavailable' | 'error' | 'hang' | 'none'

export interface BoostAsk {
  /** attoFIL per byte. @default 0n */
  pricePerByte?: bigint
  /** attoFIL to unseal. @default 0n */
  unsealPrice?: bigint
  /** Bytes before the first payment is due (MaxPaymentInterval). @default 1 MiB (go-fil-markets) */
  paymentInterval?: bigint
  /** Growth of each further interval (MaxPaymentIntervalIncrease). @default 1 MiB (go-fil-markets) */
  paymentIntervalIncrease?: bigint
  /** @default 'answer' */
  queryMode?: QueryMode
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

function dtResponse(
  request: { transferId: bigint; dealId: bigint },
  type: number,
  accepted: boolean,
  status: number,
  message = ''
): TransferMessage {
  return {
    isRequest: false,
    response: {
      type: type as TransferMessage extends { response: { type: infer T } } ? T : never,
      accepted,
      paused: false,
      transferId: request.transferId,
      voucherType: VoucherType.DealResponse,
      voucherResult: dealResponseToNode({ status, id: request.dealId, paymentOwed: 0n, message })
    }
  } as TransferMessage
}

/** Paid mode: how vouchers are checked, and where they pay. */
export interface BoostPaidMode {
  checker: VoucherChecker
  /** The provider's own wallet address (its query answer's PaymentAddress). */
  paymentAddress: Address
  /** How long a paused transfer waits for its payment. @default 60000 (DEFAULT_PAYMENT_TIMEOUT_MS) */
  paymentTimeoutMs?: number
}

/**
 * Graphsync 2.0.0 with Filecoin data-transfer, answering as Boost's free-retrieval path does
 * (data-transfer.md §4): the `fil/data-transfer/1.1` extension must hold a New pull request with a
 * `RetrievalDealProposal/1` voucher at zero prices, whose PayloadCID is the Graphsync root and
 * whose selector encodes byte-identical to the Graphsync selector; otherwise the request ends
 * with status 32 and a Rejected deal response naming the reason. After a full response it sends
 * the data-transfer Complete on `/fil/datatransfer/1.2.0`. With `paid`, it serves priced deals as
 * a lotus-markets provider did (paid-retrieval.ts): the proposal must meet its ask, and the
 * transfer pauses for vouchers.
 */
export function createBoostGraphsync(parts: {
  libp2p: Host
  get(cid: CID): Promise<Uint8Array | undefined>
  fault(): GraphsyncFault
  /** Awaited before each request is validated (the stand-in's injected latency). */
  beforeAnswer?(): Promise<void>
  stats: BoostGraphsyncStats
  /** The terms it answers queries with; free and answering by default. */
  ask?: BoostAsk
  /** The unpadded size of the piece holding `root` (the query's `Size`). */
  sizeOf?(root: CID): Promise<bigint | undefined>
  /** Serve priced deals (a lotus-markets provider), checking vouchers through Lotus. */
  paid?: BoostPaidMode
}) {
  const { libp2p, stats } = parts
  const terms = {
    pricePerByte: parts.ask?.pricePerByte ?? 0n,
    unsealPrice: parts.ask?.unsealPrice ?? 0n,
    paymentInterval: parts.ask?.paymentInterval ?? DEFAULT_PAYMENT_INTERVAL,
    paymentIntervalIncrease: parts.ask?.paymentIntervalIncrease ?? DEFAULT_PAYMENT_INTERVAL_INCREASE
  }
  const paid: PaidRetrievals | undefined =
    parts.paid === undefined
      ? undefined
      : createPaidRetrievals({
          terms,
          checker: parts.paid.checker,
          stats,
          send: (peer, message) => sendMessage(peer, message),
          ...(parts.paid.paymentTimeoutMs !== undefined ? { paymentTimeoutMs: parts.paid.paymentTimeoutMs } : {})
        })
  const channels = new Map<string, { transferId: bigint; dealId: bigint }>()
  const key = (req: GraphsyncRequest) => Buffer.from(req.id).toString('hex')
  let sentForFault = 0
  let stray: { cid: CID; bytes: Uint8Array } | undefined

  const reject = (ids: { transferId: bigint; dealId: bigint }, message: string): ValidationResult => {
    stats.graphsyncRejected++
    const dt = transferMessageToNode(dtResponse(ids, MessageType.New, false, DealStatus.Rejected, message))
    return {
      accept: false,
      status: ResponseStatus.RequestFailedUnknown,
      extensions: { [EXTENSION_INCOMING_REQUEST]: dt, [EXTENSION_DATA_TRANSFER]: dt }
    }
  }

  function validate(req: GraphsyncRequest, peer: PeerId): ValidationResult {
    stats.graphsyncRequests++
    const ext = req.extensions?.[EXTENSION_DATA_TRANSFER]
    // Without a data-transfer request nothing claims the request: Boost rejects by default (30).
    if (ext === undefined) return { accept: false, status: ResponseStatus.RequestRejected }
    let message: TransferMessage
    try {
      message = transferMessageFromNode(ext)
    } catch {
      return { accept: false, status: ResponseStatus.RequestRejected }
    }
    if (!message.isRequest) return { accept: false, status: ResponseStatus.RequestRejected }
    const dt = message.request
    let dealId = 0n
    const ids = () => ({ transferId: dt.transferId, dealId })
    if (dt.voucherType !== VoucherType.DealProposal || (dt.type !== MessageType.New && dt.type !== MessageType.Restart))
      return { accept: false, status: ResponseStatus.RequestFailedUnknown }
    const proposal = dealProposalFromNode(dt.voucher)
    stats.proposalsReceived++
    dealId = proposal.id
    const priced = proposal.params.pricePerByte !== 0n || proposal.params.unsealPrice !== 0n
    // Boost has no paid path: a priced proposal falls through to a layer that refuses it.
    if (priced && paid === undefined) return { accept: false, status: ResponseStatus.RequestFailedUnknown }
    if (req.root === undefined || !proposal.payloadCid.equals(req.root))
      return reject(ids(), 'incorrect CID for this proposal')
    const proposalSelector = encodeDagCbor(proposal.params.selector ?? EXPLORE_ALL_RECURSIVELY)
    if (!bytesEqual(proposalSelector, encodeDagCbor(req.selector)))
      return reject(ids(), 'incorrect selector for this proposal')
    const fault = parts.fault()
    if (fault === 'reject') return reject(ids(), `there is no unsealed piece containing payload cid ${req.root}`)
    if (fault === 'too-many-deals') return reject(ids(), 'too many retrieval deals received')
    let answer = dtResponse(ids(), MessageType.New, true, DealStatus.Accepted)
    if (paid !== undefined) {
      const decision = paid.accept(key(req), peer.toString(), dt.transferId, proposal)
      if ('rejected' in decision) return reject(ids(), decision.rejected)
      answer = decision.accepted
    }
    stats.graphsyncAccepted++
    channels.set(key(req), ids())
    stats.graphsyncInFlight++
    stats.graphsyncMaxInFlight = Math.max(stats.graphsyncMaxInFlight, stats.graphsyncInFlight)
    const accepted = transferMessageToNode(answer)
    return { accept: true, extensions: { [EXTENSION_INCOMING_REQUEST]: accepted, [EXTENSION_DATA_TRANSFER]: accepted } }
  }

  /** Boost's query handler: one Query map in, one QueryResponse map out, then close. */
  async function answerQuery(stream: QueryStreamLike, mode: QueryMode) {
    try {
      let query: ReturnType<typeof decodeRetrievalQuery> | undefined
      for await (const chunk of stream) {
        // A query is ~60 bytes and arrives in one chunk on loopback.
        query = decodeRetrievalQuery(chunk instanceof Uint8Array ? chunk : chunk.subarray())
        break
      }
      if (query === undefined || mode === 'hang') return
      const size = await parts.sizeOf?.(query.payloadCid)
      const found = size !== undefined && mode === 'answer'
      const status =
        mode === 'error'
          ? QueryResponseStatus.Error
          : found
            ? QueryResponseStatus.Available
            : QueryResponseStatus.Unavailable
      stream.send(
        encodeQueryResponse({
          status,
          pieceCidFound: found ? 0 : 1,
          size: size ?? 0n,
          // Paid: the provider's own wallet; Boost answers with the miner's worker (here f01000).
          paymentAddress:
            parts.paid === undefined ? Uint8Array.of(0x00, 0xe8, 0x07) : addressToBytes(parts.paid.paymentAddress),
          minPricePerByte: terms.pricePerByte,
          maxPaymentInterval: terms.paymentInterval,
          maxPaymentIntervalIncrease: terms.paymentIntervalIncrease,
          message:
            mode === 'error'
              ? 'failed to fetch storage deal state: stand-in error'
              : found
                ? ''
                : `getting pieces for cid ${query.payloadCid}: no piece`,
          unsealPrice: terms.unsealPrice
        })
      )
      stats.queriesAnswered++
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  /** go-data-transfer's SendMessage: one message on a stream of its own. */
  async function sendMessage(peer: PeerId | string, message: TransferMessage) {
    const to = typeof peer === 'string' ? peerIdFromString(peer) : peer
    const stream = await libp2p.dialProtocol(to, DATA_TRANSFER_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    stream.send(encodeTransferMessage(message))
    await stream.close()
  }

  async function sendComplete(peer: PeerId, ids: { transferId: bigint; dealId: bigint }) {
    await sendMessage(peer, dtResponse(ids, MessageType.Complete, true, DealStatus.Completed))
    stats.completesSent++
  }

  /** The client's messages on /fil/datatransfer/1.2.0: vouchers for paid deals, cancels. */
  async function readTransferStream(
    stream: QueryStreamLike & AsyncIterable<Uint8Array | { subarray(): Uint8Array }>,
    peer: string
  ) {
    try {
      for await (const message of readTransferMessages(stream)) {
        if (message.isRequest) paid?.receive(peer, message.request)
      }
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  }

  function transformOutgoing(msg: GraphsyncMessage): GraphsyncMessage | 'reset' {
    const fault = parts.fault()
    if (fault === 'reset' && (msg.blocks?.length ?? 0) > 0 && ++sentForFault > 1) return 'reset'
    if (fault === 'wrong-block' && stray !== undefined && (msg.blocks?.length ?? 0) > 0 && ++sentForFault > 1) {
      // A block outside the selector, announced as if the traversal had reached it.
      const s = stray
      return {
        ...msg,
        responses: msg.responses?.map((r) => ({
          ...r,
          metadata: r.metadata?.map((m, i) => (i === 0 ? { link: s.cid, action: m.action } : m))
        })),
        blocks: [{ prefix: Uint8Array.of(0x01, 0x55, 0x12, 0x20), data: s.bytes }, ...(msg.blocks ?? [])]
      }
    }
    return msg
  }

  const graphsync = createGraphsync(
    { libp2p, blockstore: { get: (cid) => parts.get(cid) } },
    {
      validateRequest: async (req, peer) => {
        await parts.beforeAnswer?.()
        return validate(req, peer)
      },
      beforeBlock: (req, _peer, gate) => paid?.beforeBlock(key(req), gate),
      transformOutgoing: (msg) => transformOutgoing(msg),
      onResponseEnded: (req, peer, status) => {
        const ids = channels.get(key(req))
        channels.delete(key(req))
        paid?.ended(key(req))
        if (ids === undefined) return
        stats.graphsyncInFlight--
        if (status === ResponseStatus.RequestCompletedFull) sendComplete(peer, ids).catch(() => {})
      }
    }
  )

  return {
    async start() {
      const bytes = new TextEncoder().encode('a block no selector reaches')
      stray = { cid: CIDClass.createV1(raw.code, await sha256.digest(bytes)), bytes }
      // Clients send data-transfer messages here: cancels, and vouchers for paid deals.
      await libp2p.handle(DATA_TRANSFER_PROTOCOL, (stream, connection: ConnectionLike) =>
        readTransferStream(stream, connection.remotePeer.toString())
      )
      const mode = parts.ask?.queryMode ?? 'answer'
      if (mode !== 'none') await libp2p.handle(RETRIEVAL_QUERY_PROTOCOL, (stream) => answerQuery(stream, mode))
      await graphsync.start()
    },
    async stop() {
      await graphsync.stop()
      await libp2p.unhandle(DATA_TRANSFER_PROTOCOL)
      if ((parts.ask?.queryMode ?? 'answer') !== 'none') await libp2p.unhandle(RETRIEVAL_QUERY_PROTOCOL)
    },
    resetFaultCounter() {
      sentForFault = 0
    }
  }
}
