// Outgoing response messages, per peer: in order, on one stream at a time (go-graphsync's
// messagequeue does the same). Hand-written rather than an it-pushable piped into a stream: each
// message may need a new stream (dialled lazily, and again after a failure, skipping only the
// message that failed), a 'reset' marker drops the stream between two messages, the queue counts
// its bytes so a slow reader throttles the traversals feeding it, and a stream idle for
// IDLE_STREAM_MS is closed. A pushable would need all of that bookkeeping around it.
import type { Logger } from '@autoretrieve/interface'
import type { PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { DEFAULT_MAX_QUEUED_BYTES_PER_PEER, IDLE_STREAM_MS, PROTOCOL_GRAPHSYNC, SEND_TIMEOUT_MS } from './constants.ts'
import type { GraphsyncLibp2p } from './types.ts'

/** A framed message to send, or 'reset' to abort the current stream (test fault injection). */
export type OutgoingFrame = Uint8ArrayList | 'reset'

interface PeerQueue {
  peer: PeerId
  frames: OutgoingFrame[]
  queuedBytes: number
  stream?: Stream
  sending: boolean
  idleTimer?: ReturnType<typeof setTimeout>
  drained: Set<() => void>
}

export interface PeerSenders {
  /**
   * Queues a frame for `peer` and resolves once the peer's queue is under
   * DEFAULT_MAX_QUEUED_BYTES_PER_PEER (or `signal` is aborted): the caller waits, the queue does not grow.
   */
  send(peer: PeerId, frame: OutgoingFrame, signal: AbortSignal): Promise<void>
  /** Drops every queue and aborts its stream. */
  stop(): void
}

export function createPeerSenders(components: {
  libp2p: Pick<GraphsyncLibp2p, 'dialProtocol'>
  logger: Logger
}): PeerSenders {
  const { libp2p, logger } = components
  const queues = new Map<string, PeerQueue>()

  const queueOf = (peer: PeerId): PeerQueue => {
    const key = peer.toString()
    let q = queues.get(key)
    if (q === undefined) {
      q = { peer, frames: [], queuedBytes: 0, sending: false, drained: new Set() }
      queues.set(key, q)
    }
    return q
  }

  async function pump(q: PeerQueue): Promise<void> {
    if (q.sending) return
    q.sending = true
    clearTimeout(q.idleTimer)
    try {
      while (q.frames.length > 0) {
        const frame = q.frames.shift()!
        try {
          if (frame === 'reset') {
            q.stream?.abort(new Error('reset by transformOutgoing'))
            q.stream = undefined
            continue
          }
          const signal = AbortSignal.timeout(SEND_TIMEOUT_MS)
          if (q.stream === undefined || q.stream.status !== 'open') {
            q.stream = await libp2p.dialProtocol(q.peer, PROTOCOL_GRAPHSYNC, { signal })
          }
          if (!q.stream.send(frame)) await q.stream.onDrain({ signal })
        } catch (err) {
          logger.debug({ peer: q.peer.toString(), err: (err as Error).message }, 'graphsync send failed')
          q.stream?.abort(err as Error)
          q.stream = undefined
        } finally {
          if (frame !== 'reset') q.queuedBytes -= frame.byteLength
          for (const d of q.drained) d()
          q.drained.clear()
        }
      }
    } finally {
      q.sending = false
    }
    // Go resets streams idle for 10 s: close ours well before that.
    q.idleTimer = setTimeout(() => {
      const stream = q.stream
      q.stream = undefined
      queues.delete(q.peer.toString())
      stream?.close().catch((err) => stream.abort(err))
    }, IDLE_STREAM_MS)
    q.idleTimer.unref?.()
  }

  return {
    async send(peer, frame, signal) {
      const q = queueOf(peer)
      q.frames.push(frame)
      if (frame !== 'reset') q.queuedBytes += frame.byteLength
      pump(q).catch(() => {})
      // A slow reader throttles the traversal instead of growing the queue (Go: 16 MiB per peer).
      while (q.queuedBytes > DEFAULT_MAX_QUEUED_BYTES_PER_PEER && !signal.aborted) {
        await new Promise<void>((resolve) => q.drained.add(resolve))
      }
    },
    stop() {
      for (const q of queues.values()) {
        clearTimeout(q.idleTimer)
        q.stream?.abort(new Error('graphsync stopped'))
      }
      queues.clear()
    }
  }
}
