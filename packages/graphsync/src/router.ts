// One handler for `/ipfs/graphsync/2.0.0`, shared by both sides: a message may carry requests and
// responses together, on any stream the peer opened (go-graphsync tells responses apart by request
// ID only), so each message is split here and its parts handed to the responder and the requester.
import type { Logger } from '@autoretrieve/interface'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { PAUSED_READ_BUFFER_BYTES, PROTOCOL_GRAPHSYNC } from './constants.ts'
import { ReceiveError } from './errors.ts'
import { decodeMessage, type GraphsyncMessage, type GraphsyncRequest } from './message.ts'
import type { GraphsyncLibp2p } from './types.ts'
import { readFrames } from './wire.ts'

export interface MessageHandlers {
  onRequest(peer: PeerId, request: GraphsyncRequest): void
  /**
   * A message with responses or blocks in it. A returned promise asks the stream to stop reading
   * until it resolves (our walk is far behind what the peer sent).
   */
  onResponses(peer: PeerId, message: GraphsyncMessage): Promise<void> | undefined
  /** A stream from `peer` broke (reset, malformed message): it has been reset. */
  onReceiveError(peer: PeerId, error: ReceiveError): void
  onDisconnect(peer: PeerId): void
}

export interface ProtocolRouter {
  start(): Promise<void>
  stop(): Promise<void>
}

export function createProtocolRouter(
  components: { libp2p: GraphsyncLibp2p; logger: Logger },
  handlers: MessageHandlers
): ProtocolRouter {
  const { libp2p, logger } = components

  async function handleStream(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    try {
      for await (const frame of readFrames(stream)) {
        const msg = decodeMessage(frame)
        for (const req of msg.requests ?? []) handlers.onRequest(peer, req)
        if (msg.responses === undefined && msg.blocks === undefined) continue
        const caughtUp = handlers.onResponses(peer, msg)
        if (caughtUp !== undefined) await paused(stream, caughtUp)
      }
      // The peer closed its end; answers go on streams of their own, so close ours: a half-open
      // stream counts against the inbound stream limit (see the Bitswap server, where kubo stalled).
      await stream.close().catch((err: Error) => stream.abort(err))
    } catch (err) {
      logger.debug(
        { peer: peer.toString(), err: (err as Error).message },
        'graphsync receive error; resetting the stream'
      )
      stream.abort(err as Error)
      handlers.onReceiveError(
        peer,
        new ReceiveError(`receive error from ${peer}: ${(err as Error).message}`, { cause: err })
      )
    }
  }

  /**
   * go-graphsync sends as fast as the connection allows (a 192 MiB DAG from the Go responder on
   * loopback ran 64 MiB ahead of the node's verified writes and failed as a flood), so the walk,
   * not the responder, sets the pace: a paused stream sends no window updates, and the responder's
   * writes wait. Its buffer is raised to hold what was already in flight (one yamux window).
   */
  async function paused(stream: Stream, caughtUp: Promise<void>): Promise<void> {
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, PAUSED_READ_BUFFER_BYTES)
    stream.pause()
    try {
      await caughtUp
    } finally {
      if (stream.readStatus === 'paused') stream.resume()
    }
  }

  const onDisconnect = (evt: CustomEvent<PeerId>) => handlers.onDisconnect(evt.detail)

  return {
    async start() {
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
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      await libp2p.unhandle(PROTOCOL_GRAPHSYNC)
    }
  }
}
