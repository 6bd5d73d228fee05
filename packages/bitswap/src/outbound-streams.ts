import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { PROTOCOLS, SEND_TIMEOUT_MS, SPARE_IDLE_MS } from './constants.ts'
import { PeerNotReadingError } from './errors.ts'

interface SpareStream {
  stream: Promise<Stream | undefined>
  timer: NodeJS.Timeout
}

interface PeerStreams {
  /** A stream opened ahead for the next message, so it does not wait for protocol negotiation. */
  spare?: SpareStream
  /** The stream a message is being written on, if any (one stream per message). */
  current?: Stream
  /** Protocol negotiated on our latest outbound stream. */
  protocol?: string
}

export interface OutboundStreamsComponents {
  libp2p: Pick<Libp2p, 'dialProtocol'>
}

export interface SendOptions {
  /** Asked once the stream is taken: true opens the next message's stream while this one goes out. */
  more?(): boolean
}

/**
 * The streams replies go out on: one stream per message, opened by us, closed after it. Each peer
 * may have one spare opened ahead (closed if unused for SPARE_IDLE_MS); a peer that takes nothing
 * for SEND_TIMEOUT_MS fails the send with PeerNotReadingError and never holds a writer longer.
 */
export class OutboundStreams {
  private readonly libp2p: OutboundStreamsComponents['libp2p']
  private readonly peers = new Map<string, PeerStreams>()
  private running = false

  constructor(components: OutboundStreamsComponents) {
    this.libp2p = components.libp2p
  }

  start(): void {
    this.running = true
  }

  /** Aborts the messages being written and lets go of every spare. */
  stop(): void {
    this.running = false
    for (const [id, streams] of this.peers) {
      streams.current?.abort(new Error('bitswap server stopped'))
      this.release(id)
    }
  }

  /** The protocol negotiated on the peer's latest stream from us, if one was opened. */
  protocol(peer: string): string | undefined {
    return this.peers.get(peer)?.protocol
  }

  private streams(peer: string): PeerStreams {
    let streams = this.peers.get(peer)
    if (streams === undefined) {
      streams = {}
      this.peers.set(peer, streams)
    }
    return streams
  }

  /**
   * Opens a stream to the peer ahead of the message it will carry. Every new stream costs a
   * multistream-select round trip and a peer-store update before its first byte (4-13 ms to a
   * busy Helia client in bench/miss, before every message); opened ahead, that overlaps the
   * previous message, or the retrieval a miss waits for. Unused, it is closed after SPARE_IDLE_MS.
   */
  prepare(peer: PeerId): void {
    if (!this.running) return
    const streams = this.streams(peer.toString())
    if (streams.spare !== undefined) return
    const spare: SpareStream = {
      stream: this.libp2p
        .dialProtocol(peer, PROTOCOLS, { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) })
        .catch(() => undefined),
      timer: setTimeout(() => {
        if (streams.spare === spare) detachSpare(streams)?.then((s) => s?.close().catch((err: Error) => s.abort(err)))
      }, SPARE_IDLE_MS)
    }
    spare.timer.unref?.()
    streams.spare = spare
  }

  /**
   * Sends one framed message on a stream of its own and closes it, as the Helia server does.
   * With one long-lived stream per peer, Helia 4 clients under CPU load stopped decoding it
   * partway (every byte was in the socket; they waited for blocks until their 10 s stream timeout
   * reset it): bench/serve lost a client in 3 of 5 rounds that way, and in 0 of 6 with this.
   * Resolves once the message is handed to the connection.
   */
  async send(peer: PeerId, data: Uint8ArrayList, options: SendOptions = {}): Promise<void> {
    const id = peer.toString()
    const streams = this.streams(id)
    const signal = AbortSignal.timeout(SEND_TIMEOUT_MS)
    let stream: Stream | undefined
    try {
      stream = await this.take(peer, streams, signal)
      streams.current = stream
      streams.protocol = stream.protocol
      // More to send: negotiate the next stream while this message goes out.
      if (options.more?.() === true) this.prepare(peer)
      // The message always goes in (the caller counts its blocks as sent and forgets the wants);
      // then wait for room before the stream is closed.
      if (!stream.send(data)) await drained(stream, signal)
      // A peer that does not read times out here.
      await stream.close({ signal })
    } catch (err) {
      stream?.abort(err as Error)
      if (signal.aborted)
        throw new PeerNotReadingError(`peer ${id} did not read for ${SEND_TIMEOUT_MS} ms`, { cause: err })
      throw err
    } finally {
      if (streams.current === stream) streams.current = undefined
    }
  }

  /** The spare stream if it opened and is still usable, else a new one. */
  private async take(peer: PeerId, streams: PeerStreams, signal: AbortSignal): Promise<Stream> {
    const spare = detachSpare(streams)
    if (spare !== undefined) {
      const stream = await spare
      if (stream?.status === 'open' && stream.writeStatus === 'writable') return stream
      stream?.abort(new Error('spare stream no longer writable'))
    }
    return this.libp2p.dialProtocol(peer, PROTOCOLS, { signal })
  }

  /** Forgets a peer: its spare is aborted; a message being written ends on its own. */
  release(peer: string): void {
    const streams = this.peers.get(peer)
    if (streams === undefined) return
    this.peers.delete(peer)
    detachSpare(streams)?.then((s) => s?.abort(new Error('bitswap server dropped the peer')))
  }
}

/** Takes the spare off the peer, idle timer and all, for the caller to use or end. */
function detachSpare(streams: PeerStreams): Promise<Stream | undefined> | undefined {
  const spare = streams.spare
  if (spare === undefined) return undefined
  streams.spare = undefined
  clearTimeout(spare.timer)
  return spare.stream
}

/**
 * The stream's next 'drain' event. Not `stream.onDrain()`: in libp2p 3 (@libp2p/utils 7.4) its
 * promise is made once and never renewed, so after the first drain it resolves at once.
 */
function drained(stream: Stream, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: unknown) => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onDrain = () => done()
    const onClose = (evt: Event) => done((evt as Event & { error?: Error }).error ?? new Error('stream closed'))
    const onAbort = () => done(signal.reason)
    if (signal.aborted) return onAbort()
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}
