import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import {
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  frame,
  type OutgoingMessage,
  PresenceType,
  WantType,
  type WireFormat
} from './codec.ts'
import {
  DEFAULT_HOT_BYTES,
  DEFAULT_MAX_HELD_BYTES,
  DEFAULT_MAX_HELD_BYTES_PER_PEER,
  DEFAULT_MAX_WANTLIST_ENTRIES,
  DEFAULT_SEND_CONCURRENCY,
  DEFAULT_TARGET_MESSAGE_SIZE,
  MAX_BLOCK_SIZE,
  MAX_CID_LENGTH,
  MAX_MALFORMED_PER_PEER,
  MAX_MESSAGE_SIZE,
  PROTOCOL_100,
  PROTOCOL_120,
  PROTOCOL_LEGACY,
  PROTOCOLS,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  SEND_TIMEOUT_MS,
  SPARE_IDLE_MS,
  UNKNOWN_BLOCK_ESTIMATE
} from './constants.ts'
import { readFrames } from './frame-reader.ts'
import { mhKey, type Want, WantLedger } from './ledger.ts'
import { type HeldBytes, PeerQueue, type Task } from './peer-queue.ts'
import { RecentKeys } from './recent-keys.ts'
import type {
  BitswapServer,
  BitswapServerComponents,
  BitswapServerInit,
  BitswapStats,
  DontHaveReason,
  PeerStats
} from './types.ts'

interface SpareStream {
  stream: Promise<Stream | undefined>
  timer: NodeJS.Timeout
}

interface PeerState {
  id: string
  peerId: PeerId
  queue: PeerQueue
  /** Protocol of the peer's latest inbound stream: what it speaks, so what we answer in. */
  protocol: string
  /** A stream opened ahead for the next message, so it does not wait for protocol negotiation. */
  spare?: SpareStream
  /** Batches that failed in a row (not sent): the next try waits, doubling from RETRY_BASE_MS. */
  failures: number
  retryTimer?: NodeJS.Timeout
  /** The stream a message is being written on, if any (one stream per message). */
  stream?: Stream
  /** Protocol negotiated on our latest outbound stream. */
  streamProtocol?: string
  sending: boolean
  bytesSent: number
  blocksSent: number
  malformed: number
  /** Average size of blocks sent, to estimate pendingBytes without reading queued blocks. */
  avgBlock: number
}

/**
 * The Bitswap server: a thin I/O shell around plain data (the want ledger and per-peer queues).
 * Inbound streams are read only; replies go out on a stream we open to the peer, encoded for the
 * protocol the peer spoke. At most `concurrency` peers are being written to at once; a peer that
 * stops reading loses its queue after SEND_TIMEOUT_MS and never holds up the others for longer.
 */
export function createBitswapServer(components: BitswapServerComponents, init: BitswapServerInit = {}): BitswapServer {
  const { libp2p, blocks, policy, logger, events } = components
  const concurrency = !init.maxWorkers || init.maxWorkers <= 1 ? DEFAULT_SEND_CONCURRENCY : init.maxWorkers
  const targetSize = Math.min(init.targetMessageSize ?? DEFAULT_TARGET_MESSAGE_SIZE, MAX_MESSAGE_SIZE - 64 * 1024)
  const maxIncoming = init.maxIncomingMessageSize ?? MAX_MESSAGE_SIZE
  const maxEntries = init.maxWantlistEntriesPerPeer ?? DEFAULT_MAX_WANTLIST_ENTRIES
  const ledger = new WantLedger(maxEntries)
  const peers = new Map<string, PeerState>()
  const ready: string[] = []
  const readySet = new Set<string>()
  const misses = new Map<string, AbortController>()
  const recentlySent = new RecentKeys(init.hotBytes ?? DEFAULT_HOT_BYTES)
  /** Block bytes held in every peer's queue together (each queue also counts its own). */
  const held: HeldBytes = { bytes: 0 }
  const maxHeldPerPeer = init.maxHeldBytesPerPeer ?? DEFAULT_MAX_HELD_BYTES_PER_PEER
  const maxHeld = init.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES
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
  let active = 0
  let running = false
  const responseListeners = new Set<(peer: string, msg: DecodedMessage) => void>()
  const unsubscribers: Array<() => void> = []

  const peerState = (peerId: PeerId): PeerState => {
    const id = peerId.toString()
    let state = peers.get(id)
    if (state === undefined) {
      state = {
        id,
        peerId,
        queue: new PeerQueue(held),
        protocol: PROTOCOL_120,
        sending: false,
        failures: 0,
        bytesSent: 0,
        blocksSent: 0,
        malformed: 0,
        avgBlock: 0
      }
      peers.set(id, state)
    }
    return state
  }

  const refuse = (state: PeerState, want: Want, key: string, reason: DontHaveReason) => {
    events?.onRefusal?.(want.cid, state.id, reason, policy.current().version)
    if (want.sendDontHave)
      state.queue.push({ key, cid: want.cid, kind: 'dont-have', priority: want.priority, sendDontHave: true, reason })
  }

  const schedule = (state: PeerState) => {
    if (state.queue.size === 0 || state.sending || readySet.has(state.id)) return
    readySet.add(state.id)
    ready.push(state.id)
    pump()
  }

  const pump = () => {
    while (running && active < concurrency && ready.length > 0) {
      const id = ready.shift()!
      readySet.delete(id)
      const state = peers.get(id)
      if (state === undefined || state.sending || state.queue.size === 0) continue
      state.sending = true
      active++
      sendBatch(state)
        .then(() => {
          state.failures = 0
        })
        .catch((err) => {
          state.failures++
          logger?.debug({ err, peer: id }, 'bitswap send failed')
        })
        .finally(() => {
          state.sending = false
          active--
          if (peers.get(id) === state) {
            if (state.failures === 0) schedule(state)
            else retryLater(state)
          }
          pump()
        })
    }
  }

  /**
   * Tries a peer's queue again after a failed batch, not at once: a connection that just closed is
   * still listed until its close event runs, and each dial on it failed at once, so retrying
   * straight away spun the event loop (that close event never ran, and the node froze).
   */
  const retryLater = (state: PeerState) => {
    if (state.retryTimer !== undefined) return
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(state.failures - 1, 10))
    state.retryTimer = setTimeout(() => {
      state.retryTimer = undefined
      if (peers.get(state.id) === state) schedule(state)
    }, delay)
    state.retryTimer.unref?.()
  }

  /** Whether `state` is still the server's record of its peer (not dropped by a disconnect or stop). */
  const isCurrent = (state: PeerState) => running && peers.get(state.id) === state

  const formatFor = (protocol: string): WireFormat =>
    protocol === PROTOCOL_100 || protocol === PROTOCOL_LEGACY ? 'v0' : 'v1'

  /** A task taken for the next message, with its block's load already started. */
  interface Picked {
    task: Task
    kind: Task['kind']
    reason?: string
    bytes?: Promise<Uint8Array | undefined>
  }

  /**
   * Pops the tasks that should fit one message (block sizes from the cache's index, else the
   * peer's average) and starts every block load at once, so disk reads overlap instead of queuing
   * one behind the other. Blocks sent lately to any peer come first among equal priorities.
   */
  function pick(state: PeerState, format: WireFormat): Picked[] {
    const picked: Picked[] = []
    let estimate = 0
    while (state.queue.size > 0 && estimate < targetSize) {
      const task = state.queue.pop(preferRecent)
      if (task === undefined) break
      let kind = task.kind
      let reason = task.reason
      if (kind !== 'dont-have' && policy.isDenied(task.cid)) {
        kind = 'dont-have'
        reason = 'blacklisted_cid'
      }
      if (kind === 'block') {
        if (format === 'v0' && task.cid.version !== 0) continue // a 1.0.0 peer can only take CIDv0 blocks
        const known = blocks.size?.(task.cid)
        const expected = known ?? (state.avgBlock || UNKNOWN_BLOCK_ESTIMATE)
        // A block over the target goes alone; one that would overflow this message waits for the next.
        if (picked.length > 0 && estimate + expected > targetSize) {
          state.queue.requeue(task)
          break
        }
        // Bytes the cache handed over with the block's arrival go as they are; others are read now.
        const bytes =
          task.bytes !== undefined ? Promise.resolve(task.bytes) : blocks.get(task.cid).catch(() => undefined)
        picked.push({ task, kind, bytes })
        // Recent from now: another peer wanting it joins this read (or finds it in the hot set).
        recentlySent.add(task.key, expected)
        estimate += expected + 48
      } else {
        picked.push({ task, kind, reason })
        estimate += task.cid.bytes.byteLength + 8
      }
    }
    return picked
  }

  const preferRecent = (task: Task) => task.kind === 'block' && recentlySent.has(task.key)

  /** Takes tasks up to the target size, waits for their blocks, sends one message. */
  async function sendBatch(state: PeerState): Promise<void> {
    const format = formatFor(state.streamProtocol ?? state.protocol)
    const presencesAllowed = (state.streamProtocol ?? state.protocol) === PROTOCOL_120
    const msg: Required<Pick<OutgoingMessage, 'blocks' | 'presences'>> = { blocks: [], presences: [] }
    const sent: Array<{ task: Task; topic: 'BLOCK' | 'HAVE' | 'DONT_HAVE' }> = []
    let size = 0
    for (const { task, bytes: loading, ...p } of pick(state, format)) {
      let { kind, reason } = p
      if (kind === 'block') {
        const bytes = await loading
        if (bytes === undefined || bytes.byteLength > MAX_BLOCK_SIZE) {
          if (bytes !== undefined)
            logger?.warn({ cid: task.cid.toString(), size: bytes.byteLength }, 'block over 2 MiB is never sent')
          kind = 'dont-have'
          reason = 'failed_block_load'
        } else if (size > 0 && size + bytes.byteLength > targetSize) {
          // Larger than the index said (or than the average): next message, if the peer is still here.
          if (isCurrent(state)) state.queue.requeue(task)
          continue
        } else {
          msg.blocks.push({ cid: task.cid, bytes })
          size += bytes.byteLength + 48
          state.avgBlock = state.avgBlock === 0 ? bytes.byteLength : (state.avgBlock * 7 + bytes.byteLength) / 8
          sent.push({ task, topic: 'BLOCK' })
          continue
        }
      }
      if (!presencesAllowed) continue
      if (kind === 'have') {
        msg.presences.push({ cid: task.cid, type: PresenceType.Have })
        sent.push({ task, topic: 'HAVE' })
      } else if (task.sendDontHave) {
        msg.presences.push({ cid: task.cid, type: PresenceType.DontHave })
        sent.push({ task: { ...task, reason }, topic: 'DONT_HAVE' })
      }
      size += task.cid.bytes.byteLength + 8
    }
    if (sent.length === 0) return
    const pendingBytes = Math.round(state.queue.size * (state.avgBlock || 0))
    const body = encodeMessage({ ...msg, pendingBytes: format === 'v1' && presencesAllowed ? pendingBytes : 0 }, format)
    try {
      await write(state, frame(body))
    } catch (err) {
      // Not sent: the wants are still open, so answer them on the next stream. Not when the peer
      // was dropped for not reading (its queue cleared on purpose) or dropped meanwhile (gone).
      if (!(err as { notReading?: boolean }).notReading && isCurrent(state))
        for (const { task } of sent) state.queue.requeue(task)
      throw err
    }
    for (const { task, topic } of sent) {
      if (topic === 'BLOCK') {
        counters.blocksSent++
        state.blocksSent++
        ledger.remove(state.id, task.key)
      } else if (topic === 'HAVE') {
        counters.haves++
        // A want-have is answered by HAVE; a want-block stays until its block is sent.
        if (ledger.get(state.id, task.key)?.wantType === WantType.Have) ledger.remove(state.id, task.key)
      } else counters.dontHaves++
      events?.onResponse?.(topic, topic === 'DONT_HAVE' ? task.reason : undefined)
    }
    counters.bytesSent += body.byteLength
    state.bytesSent += body.byteLength
    events?.onBytesSent?.(body.byteLength)
  }

  /**
   * Sends one framed message on a stream of its own and closes it, as the Helia server does.
   * With one long-lived stream per peer, Helia 4 clients under CPU load stopped decoding it
   * partway (every byte was in the socket; they waited for blocks until their 10 s stream timeout
   * reset it): bench/serve lost a client in 3 of 5 rounds that way, and in 0 of 6 with this.
   */
  async function write(state: PeerState, data: Uint8ArrayList): Promise<void> {
    const signal = AbortSignal.timeout(SEND_TIMEOUT_MS)
    let stream: Stream | undefined
    try {
      stream = await takeStream(state, signal)
      state.stream = stream
      state.streamProtocol = stream.protocol
      // More to send: negotiate the next stream while this message goes out.
      if (state.queue.size > 0) prepareStream(state)
      // The message always goes in (the caller counts its blocks as sent and forgets the wants);
      // then wait for room before the stream is closed.
      if (!stream.send(data)) await drained(stream, signal)
      // Resolves once the message is handed to the connection: a peer that does not read times out here.
      await stream.close({ signal })
    } catch (err) {
      stream?.abort(err as Error)
      if (signal.aborted) {
        // Not reading: stop feeding this peer. Its wants stay; a later message may retry.
        logger?.info(
          { peer: state.id, dropped: state.queue.size },
          'peer is not reading; dropping its queued responses'
        )
        state.queue.clear()
        throw Object.assign(new Error(`peer ${state.id} did not read for ${SEND_TIMEOUT_MS} ms`, { cause: err }), {
          notReading: true
        })
      }
      throw err
    } finally {
      if (state.stream === stream) state.stream = undefined
    }
  }

  /**
   * Opens a stream to the peer ahead of the message it will carry. Every new stream costs a
   * multistream-select round trip and a peer-store update before its first byte (4-13 ms to a
   * busy Helia client in bench/miss, before every message); opened ahead, that overlaps the
   * previous message, or the retrieval a miss waits for. Unused, it is closed after SPARE_IDLE_MS.
   */
  function prepareStream(state: PeerState): void {
    if (state.spare !== undefined || !running) return
    const spare: SpareStream = {
      stream: libp2p
        .dialProtocol(state.peerId, PROTOCOLS, { signal: AbortSignal.timeout(SEND_TIMEOUT_MS) })
        .catch(() => undefined),
      timer: setTimeout(() => {
        if (state.spare === spare) detachSpare(state)?.then((s) => s?.close().catch((err: Error) => s.abort(err)))
      }, SPARE_IDLE_MS)
    }
    spare.timer.unref?.()
    state.spare = spare
  }

  /** Takes the spare off the peer, idle timer and all, for the caller to use or end. */
  function detachSpare(state: PeerState): Promise<Stream | undefined> | undefined {
    const spare = state.spare
    if (spare === undefined) return undefined
    state.spare = undefined
    clearTimeout(spare.timer)
    return spare.stream
  }

  /** The spare stream if it opened and is still usable, else a new one. */
  async function takeStream(state: PeerState, signal: AbortSignal): Promise<Stream> {
    const spare = detachSpare(state)
    if (spare !== undefined) {
      const stream = await spare
      if (stream?.status === 'open' && stream.writeStatus === 'writable') return stream
      stream?.abort(new Error('spare stream no longer writable'))
    }
    return libp2p.dialProtocol(state.peerId, PROTOCOLS, { signal })
  }

  /** Lets go of what a dropped peer's state holds: queued work (and its held bytes), spare stream, retry. */
  function releasePeer(state: PeerState): void {
    state.queue.clear()
    detachSpare(state)?.then((s) => s?.abort(new Error('bitswap server dropped the peer')))
    clearTimeout(state.retryTimer)
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

  async function handleMessage(state: PeerState, bytes: Uint8Array): Promise<void> {
    const msg = decodeMessage(bytes, { maxEntries })
    counters.droppedEntries += msg.droppedEntries
    if (msg.payload.length > 0 || msg.blocks.length > 0 || msg.blockPresences.length > 0) {
      // Blocks and presences are answers to our own client's wants: hand them over.
      for (const l of responseListeners) {
        try {
          l(state.id, msg)
        } catch (err) {
          logger?.warn({ err }, 'bitswap response listener failed')
        }
      }
    }
    const wantlist = msg.wantlist
    if (wantlist === undefined) return
    if (wantlist.full) {
      ledger.clear(state.id)
      state.queue.clear()
    }
    let awaitingRetrieval = false
    for (const entry of wantlist.entries) {
      if (entry.block.byteLength > MAX_CID_LENGTH) continue
      let cid: CID
      try {
        cid = CID.decode(entry.block)
      } catch {
        counters.malformed++
        continue
      }
      if (cid.multihash.code === 0x00) continue // identity: nothing to send (boxo ignores these too)
      const key = mhKey(cid)
      if (entry.cancel) {
        ledger.remove(state.id, key)
        state.queue.remove(key)
        continue
      }
      counters.wantsReceived++
      events?.onWant?.(entry.wantType === WantType.Have ? 'have' : 'block')
      const want: Want = { cid, priority: entry.priority, wantType: entry.wantType, sendDontHave: entry.sendDontHave }
      if (policy.isDenied(cid)) {
        ledger.remove(state.id, key)
        refuse(state, want, key, 'blacklisted_cid')
        continue
      }
      if (!ledger.add(state.id, key, want)) {
        counters.droppedEntries++
        continue
      }
      const present = blocks.contains ? blocks.contains(cid) : await blocks.has(cid).catch(() => false)
      if (present) {
        counters.hits++
        events?.onHit?.()
        state.queue.push({
          key,
          cid,
          kind: want.wantType === WantType.Have ? 'have' : 'block',
          priority: want.priority,
          sendDontHave: want.sendDontHave
        })
        // Start sending now, not after the rest of the wantlist: a client that asked for 256
        // blocks at once waited for every miss among them to be set up before its first block.
        schedule(state)
      } else {
        counters.misses++
        events?.onMiss?.()
        miss(state, want, key)
        awaitingRetrieval = true
      }
    }
    // A miss is answered once its retrieval delivers (or fails): have the stream ready by then.
    // Hits and refusals go out at once and open their own; a wantlist of those opens none ahead.
    if (awaitingRetrieval && init.missHandler !== undefined && !state.sending) prepareStream(state)
    schedule(state)
  }

  function miss(state: PeerState, want: Want, key: string): void {
    const handler = init.missHandler
    if (handler === undefined) {
      refuse(state, want, key, 'disabled_retriever')
      return
    }
    if (misses.has(key)) return // one retrieval per block, shared by every peer waiting for it
    const controller = new AbortController()
    misses.set(key, controller)
    handler({ cid: want.cid, peer: state.peerId }, { signal: controller.signal })
      .then(async (result) => {
        if (!result.ok) return failMiss(key, result.reason)
        // The retrieval ended well, but did this block land? (It may not be in the DAG retrieved.)
        if (ledger.wanters(key).length > 0 && !(await blocks.has(want.cid).catch(() => false)))
          failMiss(key, 'failed_block_load')
      })
      .catch((err) => {
        logger?.debug({ err, cid: want.cid.toString() }, 'miss handler failed')
        failMiss(key, 'retrieval_failed')
      })
      .finally(() => misses.delete(key))
  }

  function failMiss(key: string, reason: DontHaveReason): void {
    for (const [peerId, want] of ledger.wanters(key)) {
      const state = peers.get(peerId)
      if (state === undefined) continue
      refuse(state, want, key, reason)
      schedule(state)
    }
  }

  function onBlock(cid: CID, bytes: Uint8Array): void {
    const key = mhKey(cid)
    for (const [peerId, want] of ledger.wanters(key)) {
      const state = peers.get(peerId)
      if (state === undefined || policy.isDenied(want.cid)) continue
      const kind = want.wantType === WantType.Have ? 'have' : 'block'
      // The cache verified these bytes a moment ago: keep them, within bounds, to send as they are.
      const hold =
        kind === 'block' &&
        state.queue.heldBytes + bytes.byteLength <= maxHeldPerPeer &&
        held.bytes + bytes.byteLength <= maxHeld
      state.queue.push({
        key,
        cid: want.cid,
        kind,
        priority: want.priority,
        sendDontHave: want.sendDontHave,
        ...(hold ? { bytes } : {})
      })
      schedule(state)
    }
  }

  function onPolicyChange(): void {
    for (const key of [...ledger.keys()]) {
      const wanters = ledger.wanters(key)
      if (wanters.length === 0 || !policy.isDenied(wanters[0][1].cid)) continue
      for (const [peerId, want] of wanters) {
        const state = peers.get(peerId)
        ledger.remove(peerId, key)
        if (state === undefined) continue
        state.queue.remove(key)
        refuse(state, want, key, 'blacklisted_cid')
        schedule(state)
      }
      misses.get(key)?.abort()
    }
  }

  async function handleStream(stream: Stream, connection: Connection): Promise<void> {
    const state = peerState(connection.remotePeer)
    state.protocol = stream.protocol ?? PROTOCOL_120
    try {
      for await (const bytes of readFrames(stream, maxIncoming)) {
        await handleMessage(state, bytes)
      }
    } catch (err) {
      counters.malformed++
      state.malformed++
      logger?.debug({ err: (err as Error).message, peer: state.id }, 'bad bitswap message; resetting the stream')
      stream.abort(err as Error)
      if (state.malformed >= MAX_MALFORMED_PER_PEER) {
        logger?.info({ peer: state.id }, 'peer keeps sending malformed bitswap messages; closing the connection')
        connection.abort(err as Error)
      }
    }
  }

  const onDisconnect = (evt: CustomEvent<PeerId>) => {
    const id = evt.detail.toString()
    const state = peers.get(id)
    ledger.clear(id)
    if (state === undefined) return
    releasePeer(state)
    peers.delete(id)
  }

  return {
    async start() {
      if (running) return
      running = true
      await libp2p.handle(
        PROTOCOLS,
        (stream, connection) => {
          handleStream(stream, connection).catch(() => {})
        },
        { maxInboundStreams: 64, runOnLimitedConnection: false }
      )
      unsubscribers.push(blocks.onBlock((cid, bytes) => onBlock(cid, bytes)))
      unsubscribers.push(policy.subscribe(() => onPolicyChange()))
      libp2p.addEventListener('peer:disconnect', onDisconnect)
      unsubscribers.push(() => libp2p.removeEventListener('peer:disconnect', onDisconnect))
    },
    async stop() {
      running = false
      for (const u of unsubscribers.splice(0)) u()
      await libp2p.unhandle(PROTOCOLS)
      for (const c of misses.values()) c.abort()
      misses.clear()
      for (const state of peers.values()) {
        state.stream?.abort(new Error('bitswap server stopped'))
        releasePeer(state)
      }
      peers.clear()
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
