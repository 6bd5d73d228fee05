// The requesting side: sends New requests, matches the responses a router hands it (by request ID,
// on whatever stream they came) and runs our own walk of the selector over the responder's
// metadata, so every block yielded is one the traversal reached, in order.
import { randomUUID } from 'node:crypto'
import { type Logger, multihashKey } from '@autoretrieve/interface'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import {
  DEFAULT_MAX_PENDING_BYTES_PER_PEER,
  DEFAULT_PRESENT_BLOCK_WAIT_MS,
  PROTOCOL_GRAPHSYNC,
  SEND_TIMEOUT_MS
} from './constants.ts'
import { RemoteIncorrectResponseError, RequestCancelledError, RequestFailedError } from './errors.ts'
import { Handoff } from './handoff.ts'
import {
  type Extensions,
  encodeMessage,
  type GraphsyncMessage,
  type GraphsyncResponse,
  isSuccessStatus,
  isTerminalStatus,
  LinkAction,
  type LinkMetadatum,
  RequestType,
  ResponseStatus
} from './message.ts'
import { ReceivedBlocks } from './received-blocks.ts'
import { idKey } from './request-id.ts'
import { parseSelector, traverse } from './selector.ts'
import type { GraphsyncLibp2p, GraphsyncRequestResult, ReceivedBlock, RequestOptions } from './types.ts'
import { blockCid, encodeFrame } from './wire.ts'

/** Blocks verified ahead of the consumer before the traversal waits for it. */
const MAX_BLOCKS_AHEAD = 8

/** How often a wait for a de-duplicated block looks again (getLocal may have it by then). */
const PRESENT_BLOCK_POLL_MS = 50

/** One outgoing request's view of what the responder sent. */
interface RequestState {
  peer: string
  metadata: LinkMetadatum[]
  status?: number
  extensions: Extensions
  error?: Error
  waiter?: () => void
  onResponse?(response: GraphsyncResponse): void
}

export interface Requester {
  request(
    peer: PeerId,
    root: CID,
    selector: unknown,
    options?: RequestOptions
  ): AsyncGenerator<ReceivedBlock, GraphsyncRequestResult>
  /**
   * The responses and blocks of one message from `peer`. Returns a promise while our walk is far
   * behind what the peer sent: the stream should stop reading until it resolves.
   */
  receive(peer: PeerId, message: GraphsyncMessage): Promise<void> | undefined
  /** Fails every request in progress with `peer` (its stream broke, or it left). */
  failPeer(peer: string, error: Error): void
  /** Fails every request in progress. */
  stop(): void
  inProgress(): number
}

export function createRequester(components: {
  libp2p: Pick<GraphsyncLibp2p, 'dialProtocol'>
  logger: Logger
}): Requester {
  const { libp2p, logger } = components
  const requests = new Map<string, RequestState>()
  const peerBlocks = new Map<string, ReceivedBlocks>()

  const wake = (state: RequestState) => {
    const waiter = state.waiter
    state.waiter = undefined
    waiter?.()
  }

  function failPeer(peer: string, error: Error): void {
    for (const state of requests.values()) {
      if (state.peer !== peer || state.status !== undefined || state.error !== undefined) continue
      state.error = error
      wake(state)
    }
  }

  function receive(peer: PeerId, msg: GraphsyncMessage): Promise<void> | undefined {
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
          return undefined
        }
        store.add(multihashKey(cid), block.data)
      }
      if (store.flooded) {
        failPeer(
          key,
          new RemoteIncorrectResponseError(
            `${key} sent over ${DEFAULT_MAX_PENDING_BYTES_PER_PEER} bytes of blocks no traversal has reached`
          )
        )
      }
      store.wake()
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
    return store?.backpressure()
  }

  /** One message on a stream of its own (requests and cancels are rare; responses reuse streams). */
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
    const state: RequestState = { peer: peerKey, metadata: [], extensions: {}, onResponse: options.onResponse }
    const key = idKey(id)
    requests.set(key, state)
    let store = peerBlocks.get(peerKey)
    if (store === undefined) {
      store = new ReceivedBlocks()
      peerBlocks.set(peerKey, store)
    }
    const blocks = store
    blocks.requests++
    const signal = options.signal
    const onAbort = () => {
      if (state.error === undefined)
        state.error = new RequestCancelledError('graphsync request cancelled', { cause: signal?.reason })
      wake(state)
      blocks.wake()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const seen = new Set<string>()
    // The traversal runs as a producer; blocks it verifies are handed to the consumer one by one.
    const handoff = new Handoff<ReceivedBlock>(MAX_BLOCKS_AHEAD)
    let traversalError: Error | undefined
    let missing: CID[] = []

    const nextEntry = async (): Promise<LinkMetadatum | undefined> => {
      while (true) {
        if (state.error !== undefined) throw state.error
        if (state.metadata.length > 0) return state.metadata.shift()
        if (state.status !== undefined) return undefined
        await new Promise<void>((resolve) => {
          state.waiter = resolve
        })
      }
    }

    const findBlock = async (cid: CID): Promise<Uint8Array | undefined> => {
      const k = multihashKey(cid)
      const deadline = Date.now() + DEFAULT_PRESENT_BLOCK_WAIT_MS
      while (true) {
        const held = blocks.take(k)
        if (held !== undefined) return held
        const local = await options.getLocal?.(cid)
        if (local !== undefined) return local
        // A block de-duplicated against another request may still be on its way on that one's
        // stream: wait a little for it before calling the responder wrong.
        const left = deadline - Date.now()
        if (left <= 0 || state.error !== undefined) return undefined
        await blocks.waitForArrival(Math.min(left, PRESENT_BLOCK_POLL_MS))
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
      const k = multihashKey(cid)
      if (!seen.has(k)) {
        seen.add(k)
        // Backpressure: do not run ahead of the consumer by more than a few blocks.
        if (!(await handoff.put({ cid, bytes })))
          throw new RequestCancelledError('graphsync request abandoned by its consumer')
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
        handoff.end()
      }
    })()

    try {
      await sendOnce(
        peer,
        { requests: [{ id, type: RequestType.New, root, selector: selectorNode, extensions: options.extensions }] },
        signal
      )
      yield* handoff.items()
      const status = state.status
      if (status !== undefined && !isSuccessStatus(status)) {
        throw new RequestFailedError(`${peerKey} ended request with status ${status}`, status, state.extensions)
      }
      if (signal?.aborted) throw new RequestCancelledError('graphsync request cancelled', { cause: signal.reason })
      if (traversalError !== undefined) throw traversalError
      return { status: status ?? ResponseStatus.RequestCompletedFull, missing }
    } finally {
      handoff.close()
      signal?.removeEventListener('abort', onAbort)
      if (state.status === undefined) {
        // Abandoned before the end: tell the responder to stop (Lassie does the same).
        if (state.error === undefined) state.error = new RequestCancelledError('graphsync request abandoned')
        wake(state)
        sendOnce(peer, { requests: [{ id, type: RequestType.Cancel }] }).catch((err) =>
          logger.debug({ peer: peerKey, err: (err as Error).message }, 'graphsync cancel not delivered')
        )
      }
      await traversal
      requests.delete(key)
      if (--blocks.requests === 0) {
        peerBlocks.delete(peerKey)
        blocks.release()
      }
    }
  }

  return {
    request,
    receive,
    failPeer,
    stop() {
      for (const state of requests.values()) {
        state.error ??= new RequestCancelledError('graphsync stopped')
        wake(state)
      }
    },
    inProgress: () => requests.size
  }
}
