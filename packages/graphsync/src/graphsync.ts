import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import {
  DEFAULT_MAX_CONCURRENT_RESPONSES,
  DEFAULT_MAX_PENDING_BYTES_PER_PEER,
  DEFAULT_MAX_QUEUED_BYTES_PER_PEER,
  DEFAULT_PAUSE_PENDING_BYTES_PER_PEER,
  DEFAULT_PRESENT_BLOCK_WAIT_MS,
  DEFAULT_RECENT_BYTES_PER_PEER,
  IDLE_STREAM_MS,
  PAUSED_READ_BUFFER_BYTES,
  PROTOCOL_GRAPHSYNC,
  SEND_TIMEOUT_MS,
  TARGET_MESSAGE_BLOCK_BYTES
} from './constants.ts'
import { ReceiveError, RemoteIncorrectResponseError, RequestCancelledError, RequestFailedError } from './errors.ts'
import {
  decodeMessage,
  type Extensions,
  encodeMessage,
  encodeMessageParts,
  type GraphsyncMessage,
  type GraphsyncRequest,
  type GraphsyncResponse,
  isSuccessStatus,
  isTerminalStatus,
  LinkAction,
  type LinkMetadatum,
  RequestType,
  ResponseStatus
} from './message.ts'
import { parseSelector, traverse } from './selector.ts'
import { blockCid, blockToWire, encodeFrame, readFrames } from './wire.ts'

export interface Logger {
  debug(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
}

export interface GraphsyncComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'addEventListener' | 'removeEventListener'>
  /** Where a responder reads blocks from. Without one, every request is answered RequestRejected. */
  blockstore?: { get(cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array | undefined> }
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

export interface GraphsyncInit {
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
  maxConcurrentResponses?: number
}

export interface ReceivedBlock {
  cid: CID
  bytes: Uint8Array
}

export interface RequestOptions {
  signal?: AbortSignal
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

const idKey = (id: Uint8Array) => Buffer.from(id).toString('hex')
const mhKey = (cid: CID) => Buffer.from(cid.multihash.bytes).toString('base64')

interface Waiter {
  resolve(): void
}

/** One outgoing request's view of what the responder sent. */
interface RequestState {
  id: Uint8Array
  peer: string
  metadata: LinkMetadatum[]
  status?: number
  extensions: Extensions
  error?: Error
  waiter?: Waiter
  onResponse?(response: GraphsyncResponse): void
}

/** Blocks a responder sent to us, per peer: unconsumed ones and a bounded set of recent ones. */
interface PeerBlocks {
  pending: Map<string, Uint8Array>
  pendingBytes: number
  recent: Map<string, Uint8Array>
  recentBytes: number
  requests: number
  waiters: Set<() => void>
}

/** Outgoing response messages to one peer, on one stream at a time (order preserved, as in Go). */
interface PeerSender {
  peer: PeerId
  frames: Array<{ bytes: ReturnType<typeof encodeFrame>; reset?: boolean }>
  queuedBytes: number
  stream?: Stream
  sending: boolean
  idleTimer?: ReturnType<typeof setTimeout>
  drained: Set<() => void>
}

export function createGraphsync(components: GraphsyncComponents, init: GraphsyncInit = {}): Graphsync {
  const { libp2p, blockstore, logger } = components
  const maxConcurrent = init.maxConcurrentResponses ?? DEFAULT_MAX_CONCURRENT_RESPONSES
  const requests = new Map<string, RequestState>()
  const peerBlocks = new Map<string, PeerBlocks>()
  const responses = new Map<string, { controller: AbortController; peer: string }>()
  const senders = new Map<string, PeerSender>()
  const responseQueue: Array<() => void> = []
  let activeResponses = 0
  let running = false

  // --- requester ------------------------------------------------------------------------------

  const blocksOf = (peer: string): PeerBlocks => {
    let b = peerBlocks.get(peer)
    if (b === undefined) {
      b = { pending: new Map(), pendingBytes: 0, recent: new Map(), recentBytes: 0, requests: 0, waiters: new Set() }
      peerBlocks.set(peer, b)
    }
    return b
  }

  const wake = (state: RequestState) => {
    const w = state.waiter
    state.waiter = undefined
    w?.resolve()
  }

  const failPeer = (peer: string, error: Error) => {
    for (const state of requests.values()) {
      if (state.peer !== peer || state.status !== undefined || state.error !== undefined) continue
      state.error = error
      wake(state)
    }
  }

  function onResponseMessage(peer: PeerId, msg: GraphsyncMessage): void {
    const key = peer.toString()
    const store = peerBlocks.get(key)
    if (store !== undefined && msg.blocks !== undefined) {
      for (const block of msg.blocks) {
        let cid: CID
        try {
          cid = blockCid(block)
        } catch (err) {
          failPeer(
            key,
            new RemoteIncorrectResponseError(`${key} sent a block we cannot hash: ${(err as Error).message}`)
          )
          return
        }
        const k = mhKey(cid)
        if (store.pending.has(k)) continue
        store.pending.set(k, block.data)
        store.pendingBytes += block.data.byteLength
      }
      if (store.pendingBytes > DEFAULT_MAX_PENDING_BYTES_PER_PEER) {
        failPeer(
          key,
          new RemoteIncorrectResponseError(
            `${key} sent over ${DEFAULT_MAX_PENDING_BYTES_PER_PEER} bytes of blocks no traversal has reached`
          )
        )
      }
      for (const w of store.waiters) w()
      store.waiters.clear()
    }
    for (const rsp of msg.responses ?? []) {
      const state = requests.get(idKey(rsp.requestId))
      if (state === undefined || state.peer !== key) continue
      if (rsp.metadata !== undefined) state.metadata.push(...rsp.metadata)
      if (rsp.extensions !== undefined) Object.assign(state.extensions, rsp.extensions)
      if (isTerminalStatus(rsp.status)) state.status = rsp.status
      state.onResponse?.(rsp)
      wake(state)
    }
  }

  async function sendOnce(peer: PeerId, msg: GraphsyncMessage, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(SEND_TIMEOUT_MS)
    const s = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    const stream = await libp2p.dialProtocol(peer, PROTOCOL_GRAPHSYNC, { signal: s })
    try {
      if (!stream.send(encodeFrame(encodeMessage(msg)))) await stream.onDrain({ signal: s })
      await stream.close({ signal: s })
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  async function* request(
    peer: PeerId,
    root: CID,
    selectorNode: unknown,
    options: RequestOptions = {}
  ): AsyncGenerator<ReceivedBlock, GraphsyncRequestResult> {
    const selector = parseSelector(selectorNode)
    const id = Uint8Array.from(Buffer.from(randomUUID().replaceAll('-', ''), 'hex'))
    const peerKey = peer.toString()
    const state: RequestState = {
      id,
      peer: peerKey,
      metadata: [],
      extensions: {},
      onResponse: options.onResponse
    }
    const key = idKey(id)
    requests.set(key, state)
    const store = blocksOf(peerKey)
    store.requests++
    const signal = options.signal
    const onAbort = () => {
      if (state.error === undefined)
        state.error = new RequestCancelledError('graphsync request cancelled', { cause: signal?.reason })
      wake(state)
      for (const w of store.waiters) w()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const seen = new Set<string>()
    // The traversal runs as a producer; blocks it verifies are handed to the consumer one by one.
    const out: ReceivedBlock[] = []
    let outWaiter: (() => void) | undefined
    let consumerWaiter: (() => void) | undefined
    let done = false
    let traversalError: Error | undefined
    let missing: CID[] = []
    let finished = false

    const nextEntry = async (): Promise<LinkMetadatum | undefined> => {
      while (true) {
        if (state.error !== undefined) throw state.error
        if (state.metadata.length > 0) return state.metadata.shift()
        if (state.status !== undefined) return undefined
        await new Promise<void>((resolve) => {
          state.waiter = { resolve }
        })
      }
    }

    const findBlock = async (cid: CID): Promise<Uint8Array | undefined> => {
      const k = mhKey(cid)
      const deadline = Date.now() + DEFAULT_PRESENT_BLOCK_WAIT_MS
      while (true) {
        const pending = store.pending.get(k)
        if (pending !== undefined) {
          store.pending.delete(k)
          store.pendingBytes -= pending.byteLength
          store.recent.set(k, pending)
          store.recentBytes += pending.byteLength
          while (store.recentBytes > DEFAULT_RECENT_BYTES_PER_PEER && store.recent.size > 1) {
            const [oldest, bytes] = store.recent.entries().next().value as [string, Uint8Array]
            store.recent.delete(oldest)
            store.recentBytes -= bytes.byteLength
          }
          return pending
        }
        const recent = store.recent.get(k)
        if (recent !== undefined) return recent
        const local = await options.getLocal?.(cid)
        if (local !== undefined) return local
        // A block de-duplicated against another request may still be on its way on that one's
        // stream: wait a little for it before calling the responder wrong.
        const left = deadline - Date.now()
        if (left <= 0 || state.error !== undefined) return undefined
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 50))
          store.waiters.add(() => {
            clearTimeout(t)
            resolve()
          })
        })
      }
    }

    const load = async (cid: CID): Promise<Uint8Array | undefined> => {
      const entry = await nextEntry()
      if (entry === undefined) {
        if (state.status !== undefined && !isSuccessStatus(state.status)) return undefined
        throw new RemoteIncorrectResponseError(
          `${peerKey} ended the response (status ${state.status}) before sending link ${cid}`
        )
      }
      if (!entry.link.equals(cid)) {
        throw new RemoteIncorrectResponseError(
          `${peerKey} sent link ${entry.link} where the traversal expects ${cid}: possible malicious responder`
        )
      }
      if (entry.action === LinkAction.Missing || entry.action === LinkAction.DuplicateDagSkipped) return undefined
      const bytes = await findBlock(cid)
      if (bytes === undefined) {
        if (state.error !== undefined) throw state.error
        throw new RemoteIncorrectResponseError(`${peerKey} said block ${cid} is present but never sent it`)
      }
      const k = mhKey(cid)
      if (!seen.has(k)) {
        seen.add(k)
        out.push({ cid, bytes })
        outWaiter?.()
        // Backpressure: do not run ahead of the consumer by more than a few blocks.
        while (out.length > 8 && !done) {
          await new Promise<void>((resolve) => {
            consumerWaiter = resolve
          })
        }
        if (done) throw new RequestCancelledError('graphsync request abandoned by its consumer')
      }
      return bytes
    }

    const traversal = (async () => {
      try {
        const result = await traverse(root, selector, load, { signal, maxLinks: options.maxLinks })
        missing = result.missing
        // The responder may still owe us the terminal status.
        while (state.status === undefined) {
          const extra = await nextEntry()
          if (extra !== undefined)
            throw new RemoteIncorrectResponseError(`${peerKey} sent link ${extra.link} past the end of the traversal`)
        }
      } catch (err) {
        traversalError = err as Error
      } finally {
        finished = true
        outWaiter?.()
      }
    })()

    try {
      await sendOnce(
        peer,
        {
          requests: [{ id, type: RequestType.New, root, selector: selectorNode, extensions: options.extensions }]
        },
        signal
      )
      while (true) {
        if (out.length > 0) {
          const block = out.shift()!
          consumerWaiter?.()
          consumerWaiter = undefined
          yield block
          continue
        }
        if (finished) break
        await new Promise<void>((resolve) => {
          outWaiter = resolve
        })
        outWaiter = undefined
      }
      const status = state.status
      if (status !== undefined && !isSuccessStatus(status)) {
        throw new RequestFailedError(`${peerKey} ended request with status ${status}`, status, state.extensions)
      }
      if (signal?.aborted) throw new RequestCancelledError('graphsync request cancelled', { cause: signal.reason })
      if (traversalError !== undefined) throw traversalError
      return { status: status ?? ResponseStatus.RequestCompletedFull, missing }
    } finally {
      done = true
      consumerWaiter?.()
      signal?.removeEventListener('abort', onAbort)
      if (state.status === undefined) {
        // Abandoned before the end: tell the responder to stop (Lassie does the same).
        if (state.error === undefined) state.error = new RequestCancelledError('graphsync request abandoned')
        wake(state)
        sendOnce(peer, { requests: [{ id, type: RequestType.Cancel }] }).catch((err) =>
          logger?.debug({ peer: peerKey, err: (err as Error).message }, 'graphsync cancel not delivered')
        )
      }
      await traversal
      requests.delete(key)
      if (--store.requests === 0) peerBlocks.delete(peerKey)
    }
  }

  // --- responder ------------------------------------------------------------------------------

  const senderOf = (peer: PeerId): PeerSender => {
    const key = peer.toString()
    let s = senders.get(key)
    if (s === undefined) {
      s = { peer, frames: [], queuedBytes: 0, sending: false, drained: new Set() }
      senders.set(key, s)
    }
    return s
  }

  async function pump(sender: PeerSender): Promise<void> {
    if (sender.sending) return
    sender.sending = true
    clearTimeout(sender.idleTimer)
    try {
      while (sender.frames.length > 0) {
        const frame = sender.frames.shift()!
        try {
          if (frame.reset) {
            sender.stream?.abort(new Error('reset by transformOutgoing'))
            sender.stream = undefined
            continue
          }
          const signal = AbortSignal.timeout(SEND_TIMEOUT_MS)
          if (sender.stream === undefined || sender.stream.status !== 'open') {
            sender.stream = await libp2p.dialProtocol(sender.peer, PROTOCOL_GRAPHSYNC, { signal })
          }
          if (!sender.stream.send(frame.bytes)) await sender.stream.onDrain({ signal })
        } catch (err) {
          logger?.debug({ peer: sender.peer.toString(), err: (err as Error).message }, 'graphsync send failed')
          sender.stream?.abort(err as Error)
          sender.stream = undefined
        } finally {
          sender.queuedBytes -= frame.bytes.byteLength
          for (const d of sender.drained) d()
          sender.drained.clear()
        }
      }
    } finally {
      sender.sending = false
    }
    // Go resets streams idle for 10 s: close ours well before that.
    sender.idleTimer = setTimeout(() => {
      const stream = sender.stream
      sender.stream = undefined
      senders.delete(sender.peer.toString())
      stream?.close().catch((err) => stream.abort(err))
    }, IDLE_STREAM_MS)
    sender.idleTimer.unref?.()
  }

  async function enqueue(peer: PeerId, msg: GraphsyncMessage, signal: AbortSignal): Promise<void> {
    const transformed = init.transformOutgoing?.(msg, peer) ?? msg
    const sender = senderOf(peer)
    if (transformed === 'reset') {
      sender.frames.push({ bytes: encodeFrame(new Uint8Array()), reset: true })
    } else {
      const bytes = encodeFrame(encodeMessageParts(transformed))
      sender.frames.push({ bytes })
      sender.queuedBytes += bytes.byteLength
    }
    pump(sender).catch(() => {})
    // A slow reader throttles the traversal instead of growing the queue (Go: 16 MiB per peer).
    while (sender.queuedBytes > DEFAULT_MAX_QUEUED_BYTES_PER_PEER && !signal.aborted) {
      await new Promise<void>((resolve) => sender.drained.add(resolve))
    }
  }

  const sentByPeer = new Map<string, Map<string, number>>()

  async function respond(
    peer: PeerId,
    req: GraphsyncRequest,
    controller: AbortController
  ): Promise<number | undefined> {
    let ended: number | undefined
    const signal = controller.signal
    const peerKey = peer.toString()
    let validation: ValidationResult
    if (init.validateRequest !== undefined) {
      try {
        validation = await init.validateRequest(req, peer)
      } catch (err) {
        logger?.info({ peer: peerKey, err: (err as Error).message }, 'graphsync request hook failed')
        validation = { accept: false, status: ResponseStatus.RequestFailedUnknown }
      }
    } else validation = { accept: blockstore !== undefined }
    const finish = async (
      status: number,
      extra: Partial<GraphsyncResponse> = {},
      blocks: GraphsyncMessage['blocks'] = []
    ) => {
      if (signal.aborted) return
      await enqueue(peer, { responses: [{ requestId: req.id, status, ...extra }], blocks }, signal)
      ended = status
    }
    if (!validation.accept || blockstore === undefined || req.root === undefined || req.selector === undefined) {
      await finish(validation.status ?? ResponseStatus.RequestRejected, { extensions: validation.extensions })
      return ended
    }
    let selector: ReturnType<typeof parseSelector>
    try {
      selector = parseSelector(req.selector)
    } catch {
      await finish(ResponseStatus.RequestFailedUnknown, { extensions: validation.extensions })
      return ended
    }
    let peerSent = sentByPeer.get(peerKey)
    if (peerSent === undefined) {
      peerSent = new Map()
      sentByPeer.set(peerKey, peerSent)
    }
    const sentHere = new Set<string>()
    let metadata: LinkMetadatum[] = []
    let blocks: NonNullable<GraphsyncMessage['blocks']> = []
    let blockBytes = 0
    let extensions = validation.extensions
    const flush = async () => {
      if (metadata.length === 0 && blocks.length === 0 && extensions === undefined) return
      const rsp: GraphsyncResponse = { requestId: req.id, status: ResponseStatus.PartialResponse, metadata, extensions }
      const msg = { responses: [rsp], blocks }
      metadata = []
      blocks = []
      blockBytes = 0
      extensions = undefined
      await enqueue(peer, msg, signal)
    }
    let rootFound = true
    try {
      const result = await traverse(
        req.root,
        selector,
        async (cid) => {
          signal.throwIfAborted()
          const bytes = await blockstore.get(cid, { signal })
          if (bytes === undefined && cid.equals(req.root!)) {
            rootFound = false
            return undefined
          }
          if (bytes !== undefined) {
            const k = mhKey(cid)
            if (!sentHere.has(k) && !peerSent.has(k)) {
              if (blockBytes > 0 && blockBytes + bytes.byteLength > TARGET_MESSAGE_BLOCK_BYTES) await flush()
              blocks.push(blockToWire(cid, bytes))
              blockBytes += bytes.byteLength
              sentHere.add(k)
              peerSent.set(k, (peerSent.get(k) ?? 0) + 1)
            }
          }
          metadata.push({ link: cid, action: bytes === undefined ? LinkAction.Missing : LinkAction.Present })
          return bytes
        },
        { signal }
      )
      if (!rootFound) {
        await finish(ResponseStatus.RequestFailedContentNotFound, { extensions })
        return ended
      }
      const status =
        result.missing.length > 0 ? ResponseStatus.RequestCompletedPartial : ResponseStatus.RequestCompletedFull
      const last = blocks
      const meta = metadata
      blocks = []
      metadata = []
      await finish(status, { metadata: meta.length > 0 ? meta : undefined, extensions }, last)
      return ended
    } catch (err) {
      if (signal.aborted) return undefined // cancelled: Go sends nothing more for the request
      logger?.info({ peer: peerKey, err: (err as Error).message }, 'graphsync traversal failed')
      await finish(ResponseStatus.RequestFailedUnknown)
      return ended
    } finally {
      for (const k of sentHere) {
        const n = (peerSent.get(k) ?? 1) - 1
        if (n <= 0) peerSent.delete(k)
        else peerSent.set(k, n)
      }
      if (peerSent.size === 0) sentByPeer.delete(peerKey)
    }
  }

  function onRequest(peer: PeerId, req: GraphsyncRequest): void {
    const key = idKey(req.id)
    if (req.type === RequestType.Cancel) {
      responses.get(key)?.controller.abort()
      return
    }
    if (req.type === RequestType.Update) return // paid retrievals only; nothing to update here
    if (responses.has(key)) return // an ID already in progress: Go leaves this undefined; we ignore it
    const controller = new AbortController()
    responses.set(key, { controller, peer: peer.toString() })
    const run = () => {
      activeResponses++
      respond(peer, req, controller)
        .catch((err) => {
          logger?.debug({ err: (err as Error).message }, 'graphsync response failed')
          return undefined
        })
        .then((status) => init.onResponseEnded?.(req, peer, status))
        .finally(() => {
          activeResponses--
          responses.delete(key)
          responseQueue.shift()?.()
        })
    }
    // Go processes a fixed number of requests at once and queues the rest silently.
    if (activeResponses < maxConcurrent) run()
    else responseQueue.push(run)
  }

  // --- network --------------------------------------------------------------------------------

  /** Stops reading while the walk is far behind what the peer sent (see DEFAULT_PAUSE_PENDING_BYTES_PER_PEER). */
  async function keepPace(stream: Stream, key: string): Promise<void> {
    const store = peerBlocks.get(key)
    if (store === undefined || store.pendingBytes <= DEFAULT_PAUSE_PENDING_BYTES_PER_PEER) return
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, PAUSED_READ_BUFFER_BYTES)
    stream.pause()
    while (peerBlocks.get(key) === store && store.pendingBytes > DEFAULT_PAUSE_PENDING_BYTES_PER_PEER / 2) {
      if (stream.status !== 'open') return
      await sleep(20)
    }
    if (stream.readStatus === 'paused') stream.resume()
  }

  async function handleStream(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    try {
      for await (const frame of readFrames(stream)) {
        const msg = decodeMessage(frame)
        for (const req of msg.requests ?? []) onRequest(peer, req)
        if (msg.responses !== undefined || msg.blocks !== undefined) {
          onResponseMessage(peer, msg)
          await keepPace(stream, peer.toString())
        }
      }
    } catch (err) {
      logger?.debug(
        { peer: peer.toString(), err: (err as Error).message },
        'graphsync receive error; resetting the stream'
      )
      stream.abort(err as Error)
      failPeer(
        peer.toString(),
        new ReceiveError(`receive error from ${peer}: ${(err as Error).message}`, { cause: err })
      )
    }
  }

  const onDisconnect = (evt: CustomEvent<PeerId>) => {
    const key = evt.detail.toString()
    failPeer(key, new ReceiveError(`${key} disconnected`))
    // Responses to a peer that left can no longer be delivered.
    for (const r of responses.values()) if (r.peer === key) r.controller.abort()
  }

  return {
    async start() {
      if (running) return
      running = true
      await libp2p.handle(
        PROTOCOL_GRAPHSYNC,
        (stream, connection) => {
          handleStream(stream, connection).catch(() => {})
        },
        { maxInboundStreams: 64, runOnLimitedConnection: false }
      )
      libp2p.addEventListener('peer:disconnect', onDisconnect)
    },
    async stop() {
      if (!running) return
      running = false
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      await libp2p.unhandle(PROTOCOL_GRAPHSYNC)
      for (const r of responses.values()) r.controller.abort()
      responseQueue.length = 0
      for (const state of requests.values()) {
        state.error ??= new RequestCancelledError('graphsync stopped')
        wake(state)
      }
      for (const sender of senders.values()) {
        clearTimeout(sender.idleTimer)
        sender.stream?.abort(new Error('graphsync stopped'))
      }
      senders.clear()
    },
    request,
    stats: () => ({ inProgressRequests: requests.size, inProgressResponses: responses.size })
  }
}
