import type { AbortOptions, Logger } from '@autoretrieve/interface'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { Extensions, GraphsyncMessage, GraphsyncRequest, GraphsyncResponse } from './message.ts'

/** The slice of a libp2p node Graphsync uses: its protocol handler, dialing, and disconnect events. */
export type GraphsyncLibp2p = Pick<
  Libp2p,
  'handle' | 'unhandle' | 'dialProtocol' | 'addEventListener' | 'removeEventListener'
>

export interface GraphsyncComponents {
  libp2p: GraphsyncLibp2p
  /** Where a responder reads blocks from. Without one, every request is answered RequestRejected. */
  blockstore?: { get(cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined> }
  logger?: Logger
}

/** What a request hook decides (Boost validates the data-transfer voucher here). */
export interface ValidationResult {
  accept: boolean
  /** Terminal status when not accepted: 30 RequestRejected by default, 32 for a hook error. */
  status?: number
  /** Sent with the first response message (accepted) or with the rejection. */
  extensions?: Extensions
}

/** Where a response stands when {@link GraphsyncInit.beforeBlock} is asked. */
export interface BlockGate {
  /** Bytes of the blocks this response has queued so far (duplicates another response sent excluded). */
  bytesSent: number
  /** Size of the block about to be queued; 0 on the check before the final message. */
  blockBytes: number
  /** True once, after the traversal: the next message is the terminal one. */
  last: boolean
}

/** How a paused response goes on. */
export type ResumeResult =
  /** Go on; the extensions travel in a message sent at once (go-graphsync `UnpauseResponse`). */
  | { extensions?: Extensions }
  /** End the response here with this terminal status (35 RequestCancelled for a cancelled transfer). */
  | { status: number; extensions?: Extensions }

/** A response paused by {@link GraphsyncInit.beforeBlock}. */
export interface ResponsePause {
  /** Sent with the blocks queued so far in a message with status 15 (RequestPaused). */
  extensions?: Extensions
  /**
   * Resolves when the response may go on or must end. `signal` aborts when the requester cancels
   * or the node stops: the promise should settle then (the responder stops waiting either way).
   */
  resume(signal: AbortSignal): Promise<ResumeResult>
}

export interface GraphsyncInit {
  /**
   * Asked before each block a response queues, and once before its final message: answering a
   * pause sends what is queued with status 15 and sends nothing more for the request until it
   * resumes (then it asks again). A paused response holds no worker (go-graphsync parks it too):
   * it waits for one again in turn when resumed. Data-transfer pauses here for payment.
   */
  beforeBlock?(
    request: GraphsyncRequest,
    peer: PeerId,
    gate: BlockGate
  ): ResponsePause | undefined | Promise<ResponsePause | undefined>
  /** Request hook for incoming requests; without one, requests are served when a blockstore is set. */
  validateRequest?(request: GraphsyncRequest, peer: PeerId): Promise<ValidationResult> | ValidationResult
  /**
   * Called once when a response ends: with the terminal status sent, or undefined when it was
   * cancelled or could not be sent (data-transfer sends its Complete after a 20).
   */
  onResponseEnded?(request: GraphsyncRequest, peer: PeerId, status: number | undefined): void
  /**
   * Fault injection for test stand-ins: sees each outgoing response message and may change it or
   * answer 'reset' to reset the stream instead of sending it.
   */
  transformOutgoing?(message: GraphsyncMessage, peer: PeerId): GraphsyncMessage | 'reset'
  /**
   * Incoming requests served at once; the rest wait in arrival order.
   * @default 6 (DEFAULT_MAX_CONCURRENT_RESPONSES)
   */
  maxConcurrentResponses?: number
}

export interface ReceivedBlock {
  cid: CID
  bytes: Uint8Array
}

export interface RequestOptions extends AbortOptions {
  extensions?: Extensions
  /** Every response entry for this request as it arrives (status and extensions). */
  onResponse?(response: GraphsyncResponse): void
  /** Resolves a "present" link the responder de-duplicated and we no longer hold in memory. */
  getLocal?(cid: CID): Promise<Uint8Array | undefined>
  maxLinks?: number
}

export interface GraphsyncRequestResult {
  status: number
  /** Links the responder said it lacks (status 21). */
  missing: CID[]
}

export interface Graphsync {
  start(): Promise<void>
  stop(): Promise<void>
  /**
   * Sends a New request and yields the blocks of the traversal in order, each verified against the
   * selector walk (first visit only). Returns the terminal status; throws RequestFailedError on
   * 30–35, RemoteIncorrectResponseError when the responder strays, RequestCancelledError on abort.
   * Breaking out of the loop cancels the request at the responder.
   */
  request(
    peer: PeerId,
    root: CID,
    selector: unknown,
    options?: RequestOptions
  ): AsyncGenerator<ReceivedBlock, GraphsyncRequestResult>
  stats(): { inProgressRequests: number; inProgressResponses: number }
}
