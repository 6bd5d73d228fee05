// The responding side: serves incoming requests from a blockstore by walking the selector, a
// fixed number at a time, and sends each block once per peer across its concurrent requests
// (go-graphsync's de-duplication: the others get a "present" link for it). A hook may pause a
// response before any block (data-transfer's pause for payment); a paused response gives up its
// worker until it resumes.
import { type Logger, multihashKey } from '@autoretrieve/interface'
import type { PeerId } from '@libp2p/interface'
import { DEFAULT_MAX_CONCURRENT_RESPONSES, TARGET_MESSAGE_BLOCK_BYTES } from './constants.ts'
import {
  encodeMessageParts,
  type GraphsyncMessage,
  type GraphsyncRequest,
  type GraphsyncResponse,
  LinkAction,
  type LinkMetadatum,
  RequestType,
  ResponseStatus
} from './message.ts'
import { createPeerSenders } from './peer-sender.ts'
import { idKey } from './request-id.ts'
import { parseSelector, traverse } from './selector.ts'
import { createTurns, untilAborted } from './turns.ts'
import type {
  BlockGate,
  GraphsyncComponents,
  GraphsyncInit,
  GraphsyncLibp2p,
  ResumeResult,
  ValidationResult
} from './types.ts'
import { blockToWire, encodeFrame } from './wire.ts'

export interface Responder {
  /** A request (New, Cancel or Update) from `peer`. */
  receive(peer: PeerId, request: GraphsyncRequest): void
  /** Stops the responses to `peer`: they can no longer be delivered. */
  abortPeer(peer: string): void
  /** Stops every response and drops the ones waiting their turn. */
  stop(): void
  inProgress(): number
}

interface ResponseEntry {
  controller: AbortController
  peer: string
  started: boolean
}

/** Thrown out of the traversal when a paused response is told to end with a terminal status. */
class EndResponse extends Error {
  readonly status: number
  readonly extensions: GraphsyncResponse['extensions']
  constructor(end: { status: number; extensions?: GraphsyncResponse['extensions'] }) {
    super(`response ended while paused with status ${end.status}`)
    this.status = end.status
    this.extensions = end.extensions
  }
}

export function createResponder(
  components: Pick<GraphsyncComponents, 'blockstore'> & {
    libp2p: Pick<GraphsyncLibp2p, 'dialProtocol'>
    logger: Logger
  },
  init: GraphsyncInit = {}
): Responder {
  const { blockstore, logger } = components
  const senders = createPeerSenders(components)
  const responses = new Map<string, ResponseEntry>()
  // Go processes a fixed number of requests at once and queues the rest silently, in order.
  const turns = createTurns(init.maxConcurrentResponses ?? DEFAULT_MAX_CONCURRENT_RESPONSES)
  /** Per peer: how many of its responses in progress have sent each block (by multihash key). */
  const sentByPeer = new Map<string, Map<string, number>>()

  async function enqueue(peer: PeerId, msg: GraphsyncMessage, signal: AbortSignal): Promise<void> {
    const transformed = init.transformOutgoing?.(msg, peer) ?? msg
    await senders.send(peer, transformed === 'reset' ? 'reset' : encodeFrame(encodeMessageParts(transformed)), signal)
  }

  async function respond(
    peer: PeerId,
    req: GraphsyncRequest,
    signal: AbortSignal,
    turn: { release: () => void }
  ): Promise<number | undefined> {
    let ended: number | undefined
    const peerKey = peer.toString()
    let validation: ValidationResult
    if (init.validateRequest !== undefined) {
      try {
        validation = await init.validateRequest(req, peer)
      } catch (err) {
        logger.info({ peer: peerKey, err: (err as Error).message }, 'graphsync request hook failed')
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
    const root = req.root
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
    let bytesSent = 0
    const flush = async (status: number = ResponseStatus.PartialResponse) => {
      const empty = metadata.length === 0 && blocks.length === 0 && extensions === undefined
      if (empty && status !== ResponseStatus.RequestPaused) return
      const rsp: GraphsyncResponse = {
        requestId: req.id,
        status,
        metadata: metadata.length > 0 ? metadata : undefined,
        extensions
      }
      const msg = { responses: [rsp], blocks }
      metadata = []
      blocks = []
      blockBytes = 0
      extensions = undefined
      await enqueue(peer, msg, signal)
    }
    /** Asks the pause hook before the next block (or the end); waits out each pause it answers. */
    const gate = async (nextBytes: number, last: boolean) => {
      for (;;) {
        const info: BlockGate = { bytesSent, blockBytes: nextBytes, last }
        const pause = await init.beforeBlock?.(req, peer, info)
        if (pause === undefined) return
        signal.throwIfAborted()
        if (pause.extensions !== undefined) {
          // A message holds one value per extension name: what is pending (the hook's acceptance,
          // say) goes first, so the pause's own message is not hidden behind it.
          if (extensions !== undefined) await flush()
          extensions = pause.extensions
        }
        await flush(ResponseStatus.RequestPaused)
        // Paused: the worker goes to the next response waiting; resumed, this one waits its turn.
        turn.release()
        turn.release = () => {}
        const next: ResumeResult = await untilAborted(pause.resume(signal), signal)
        if ('status' in next) throw new EndResponse(next)
        turn.release = await turns.take(signal)
        if (next.extensions !== undefined) {
          extensions = { ...extensions, ...next.extensions }
          await flush()
        }
      }
    }
    let rootFound = true
    try {
      const result = await traverse(
        root,
        selector,
        async (cid) => {
          signal.throwIfAborted()
          const bytes = await blockstore.get(cid, { signal })
          if (bytes === undefined && cid.equals(root)) {
            rootFound = false
            return undefined
          }
          if (bytes !== undefined) {
            const k = multihashKey(cid)
            const fresh = () => !sentHere.has(k) && !peerSent.has(k)
            // Only a hook may wait here (the check and the claim below stay in one turn otherwise);
            // while it waits, another response may send the block.
            if (fresh() && init.beforeBlock !== undefined) await gate(bytes.byteLength, false)
            if (fresh()) {
              if (blockBytes > 0 && blockBytes + bytes.byteLength > TARGET_MESSAGE_BLOCK_BYTES) await flush()
              blocks.push(blockToWire(cid, bytes))
              blockBytes += bytes.byteLength
              bytesSent += bytes.byteLength
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
      if (init.beforeBlock !== undefined) await gate(0, true)
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
      if (err instanceof EndResponse) {
        await finish(err.status, { extensions: err.extensions })
        return ended
      }
      logger.info({ peer: peerKey, err: (err as Error).message }, 'graphsync traversal failed')
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

  function receive(peer: PeerId, req: GraphsyncRequest): void {
    const key = idKey(req.id)
    if (req.type === RequestType.Cancel) {
      responses.get(key)?.controller.abort()
      return
    }
    if (req.type === RequestType.Update) return // paid retrievals only; nothing to update here
    if (responses.has(key)) return // an ID already in progress: Go leaves this undefined; we ignore it
    const entry: ResponseEntry = { controller: new AbortController(), peer: peer.toString(), started: false }
    responses.set(key, entry)
    const signal = entry.controller.signal
    turns
      .take(signal)
      .then(
        async (release) => {
          entry.started = true
          const turn = { release }
          let status: number | undefined
          try {
            status = await respond(peer, req, signal, turn)
          } catch (err) {
            logger.debug({ err: (err as Error).message }, 'graphsync response failed')
          } finally {
            turn.release()
          }
          try {
            init.onResponseEnded?.(req, peer, status)
          } finally {
            responses.delete(key)
          }
        },
        () => {
          // Cancelled or stopped before its turn: it never reached the hook and sends nothing.
          responses.delete(key)
        }
      )
      .catch((err) => logger.debug({ err: (err as Error).message }, 'graphsync onResponseEnded failed'))
  }

  return {
    receive,
    abortPeer(peer) {
      for (const r of responses.values()) if (r.peer === peer) r.controller.abort()
    },
    stop() {
      for (const r of responses.values()) r.controller.abort()
      turns.clear()
      // Those still waiting their turn never run: they end here.
      for (const [key, r] of responses) if (!r.started) responses.delete(key)
      senders.stop()
    },
    inProgress: () => responses.size
  }
}
