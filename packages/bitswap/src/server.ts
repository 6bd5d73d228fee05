import { readFrames } from '@autoretrieve/frames'
import { silentLogger } from '@autoretrieve/interface'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { BatchSender } from './batch-sender.ts'
import { type DecodedMessage, decodeMessage } from './codec.ts'
import {
  DEFAULT_HOT_BYTES,
  DEFAULT_MAX_HELD_BYTES,
  DEFAULT_MAX_HELD_BYTES_PER_PEER,
  DEFAULT_MAX_WANTLIST_ENTRIES,
  DEFAULT_SEND_CONCURRENCY,
  DEFAULT_TARGET_MESSAGE_SIZE,
  MAX_MALFORMED_PER_PEER,
  MAX_MESSAGE_SIZE,
  PROTOCOL_120,
  PROTOCOLS
} from './constants.ts'
import { toMessageError } from './errors.ts'
import { WantLedger } from './ledger.ts'
import { OutboundStreams } from './outbound-streams.ts'
import { PeerRegistry, type PeerState } from './peers.ts'
import { RecentKeys } from './recent-keys.ts'
import { SendScheduler } from './send-scheduler.ts'
import type { BitswapServer, BitswapServerComponents, BitswapServerInit, BitswapStats, PeerStats } from './types.ts'
import { WantEngine } from './want-engine.ts'

/**
 * The Bitswap server: a thin I/O shell wiring plain parts, as boxo's server does. Inbound streams
 * are read here only; their wants go to the WantEngine (ledger, per-peer queues, misses, landed
 * blocks). The SendScheduler picks which peer's batch goes next, at most `concurrency` at once;
 * the BatchSender packs a peer's queue into a message (packMessages) and hands it to
 * OutboundStreams, which opens reply streams (ahead, where an answer comes later) encoded for the
 * protocol the peer spoke. A peer that stops reading loses its queue after SEND_TIMEOUT_MS and
 * never holds up the others for longer.
 */
export function createBitswapServer(components: BitswapServerComponents, init: BitswapServerInit = {}): BitswapServer {
  const { libp2p, blocks, policy, events } = components
  const logger = components.logger ?? silentLogger
  const concurrency = !init.maxWorkers || init.maxWorkers <= 1 ? DEFAULT_SEND_CONCURRENCY : init.maxWorkers
  const targetMessageSize = Math.min(
    init.targetMessageSize ?? DEFAULT_TARGET_MESSAGE_SIZE,
    MAX_MESSAGE_SIZE - 64 * 1024
  )
  const maxIncoming = init.maxIncomingMessageSize ?? MAX_MESSAGE_SIZE
  const maxEntries = init.maxWantlistEntriesPerPeer ?? DEFAULT_MAX_WANTLIST_ENTRIES
  const counters: BitswapStats = {
    peers: 0,
    wants: 0,
    wantsReceived: 0,
    blocksSent: 0,
    bytesSent: 0,
    dontHaves: 0,
    haves: 0,
    hits: 0,
    misses: 0,
    malformed: 0,
    droppedEntries: 0
  }
  const ledger = new WantLedger(maxEntries)
  const peers = new PeerRegistry()
  const streams = new OutboundStreams({ libp2p })
  // What the engine and the sender both work on: the ledger, the peers' queues, the counters.
  const shared = { blocks, policy, logger, events, ledger, peers, counters }
  const sender = new BatchSender(
    { ...shared, streams, recent: new RecentKeys(init.hotBytes ?? DEFAULT_HOT_BYTES) },
    { targetMessageSize }
  )
  const scheduler = new SendScheduler(
    {
      logger,
      hasWork: (id) => (peers.get(id)?.queue.size ?? 0) > 0,
      send: async (id) => {
        const peer = peers.get(id)
        if (peer !== undefined) await sender.send(peer)
      }
    },
    { concurrency }
  )
  const schedule = (peer: PeerState) => scheduler.schedule(peer.id)
  const engine = new WantEngine(
    { ...shared, schedule },
    {
      missHandler: init.missHandler,
      maxHeldBytesPerPeer: init.maxHeldBytesPerPeer ?? DEFAULT_MAX_HELD_BYTES_PER_PEER,
      maxHeldBytes: init.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES
    }
  )
  let running = false
  const responseListeners = new Set<(peer: string, msg: DecodedMessage) => void>()
  const unsubscribers: Array<() => void> = []

  async function handleMessage(peer: PeerState, bytes: Uint8Array): Promise<void> {
    const msg = decodeMessage(bytes, { maxEntries })
    counters.droppedEntries += msg.droppedEntries
    if (msg.payload.length > 0 || msg.blocks.length > 0 || msg.blockPresences.length > 0) {
      // Blocks and presences are answers to our own client's wants: hand them over.
      for (const l of responseListeners) {
        try {
          l(peer.id, msg)
        } catch (err) {
          logger.warn({ err }, 'bitswap response listener failed')
        }
      }
    }
    if (msg.wantlist === undefined) return
    const awaitingRetrieval = await engine.wantlist(peer, msg.wantlist)
    // A miss is answered once its retrieval delivers (or fails): have the stream ready by then.
    // Hits and refusals go out at once and open their own; a wantlist of those opens none ahead.
    if (awaitingRetrieval && !scheduler.isSending(peer.id)) streams.prepare(peer.peerId)
    schedule(peer)
  }

  async function handleStream(stream: Stream, connection: Connection): Promise<void> {
    if (!running) return stream.abort(new Error('bitswap server stopped'))
    const peer = peers.open(connection.remotePeer)
    peer.protocol = stream.protocol ?? PROTOCOL_120
    try {
      for await (const bytes of readFrames(stream, {
        maxLength: maxIncoming,
        label: 'bitswap message',
        mapError: toMessageError
      })) {
        await handleMessage(peer, bytes)
      }
      // The peer closed its end (boxo and Helia send each message on a stream of its own, then
      // close it). Nothing is written back on an inbound stream, so close ours too: a half-open
      // stream counts against maxInboundStreams, and after 64 of them the peer could not reach us
      // (kubo as a provider stalled at the 65th block of a retrieval).
      await stream.close().catch((err: Error) => stream.abort(err))
    } catch (err) {
      counters.malformed++
      peer.malformed++
      logger.debug({ err: (err as Error).message, peer: peer.id }, 'bad bitswap message; resetting the stream')
      stream.abort(err as Error)
      if (peer.malformed >= MAX_MALFORMED_PER_PEER) {
        logger.info({ peer: peer.id }, 'peer keeps sending malformed bitswap messages; closing the connection')
        connection.abort(err as Error)
      }
    }
  }

  /** Lets go of what is held for a peer: queued answers (and their bytes), spare stream, retry. */
  function releasePeer(id: string): void {
    peers.drop(id)
    streams.release(id)
    scheduler.forget(id)
  }

  const onDisconnect = (evt: CustomEvent<PeerId>) => {
    const id = evt.detail.toString()
    ledger.clear(id)
    releasePeer(id)
  }

  return {
    async start() {
      if (running) return
      running = true
      streams.start()
      scheduler.start()
      await libp2p.handle(
        PROTOCOLS,
        (stream, connection) => {
          handleStream(stream, connection).catch(() => {})
        },
        { maxInboundStreams: 64, runOnLimitedConnection: false }
      )
      unsubscribers.push(blocks.onBlock((cid, bytes) => engine.blockLanded(cid, bytes)))
      unsubscribers.push(policy.subscribe(() => engine.policyChanged()))
      libp2p.addEventListener('peer:disconnect', onDisconnect)
      unsubscribers.push(() => libp2p.removeEventListener('peer:disconnect', onDisconnect))
    },
    async stop() {
      running = false
      for (const u of unsubscribers.splice(0)) u()
      scheduler.stop()
      streams.stop()
      engine.stop()
      for (const peer of [...peers.values()]) releasePeer(peer.id)
      await libp2p.unhandle(PROTOCOLS)
    },
    stats() {
      return { ...counters, peers: ledger.peers, wants: ledger.size }
    },
    onResponse(listener) {
      responseListeners.add(listener)
      return () => responseListeners.delete(listener)
    },
    peers(): PeerStats[] {
      return [...peers.values()].map((s) => ({
        peer: s.id,
        wants: ledger.wantCount(s.id),
        queued: s.queue.size,
        bytesSent: s.bytesSent,
        blocksSent: s.blocksSent
      }))
    }
  }
}
