import { encodeFrame } from '@autoretrieve/frames'
import type { Logger } from '@autoretrieve/interface'
import { encodeMessage, WantType, type WireFormat } from './codec.ts'
import { MAX_BLOCK_SIZE, PROTOCOL_100, PROTOCOL_120, PROTOCOL_LEGACY, UNKNOWN_BLOCK_ESTIMATE } from './constants.ts'
import { PeerNotReadingError } from './errors.ts'
import type { WantLedger } from './ledger.ts'
import type { OutboundStreams } from './outbound-streams.ts'
import { BLOCK_OVERHEAD, type PackEntry, PRESENCE_OVERHEAD, packMessages } from './pack.ts'
import type { Task } from './peer-queue.ts'
import type { PeerRegistry, PeerState } from './peers.ts'
import type { RecentKeys } from './recent-keys.ts'
import type { BitswapEvents, BitswapStats, BlockSource, PolicyView } from './types.ts'

export interface BatchSenderComponents {
  blocks: BlockSource
  policy: PolicyView
  logger: Logger
  events?: BitswapEvents
  ledger: WantLedger
  peers: PeerRegistry
  counters: BitswapStats
  streams: OutboundStreams
  /** Blocks taken lately for any peer: served first among equal priorities. */
  recent: RecentKeys
}

export interface BatchSenderInit {
  targetMessageSize: number
}

/** A task taken for the next message, with its block's load already started. */
interface Picked {
  task: Task
  kind: Task['kind']
  reason?: string
  bytes?: Promise<Uint8Array | undefined>
}

/** An answer ready to pack, with the task it answers (to account for, or to put back). */
type Answer = PackEntry & { task: Task }

const formatFor = (protocol: string): WireFormat =>
  protocol === PROTOCOL_100 || protocol === PROTOCOL_LEGACY ? 'v0' : 'v1'

/**
 * One batch for one peer: takes tasks from its queue up to the target size, loads their blocks,
 * packs them into one message (packMessages), sends it on an outbound stream and accounts for
 * what went: counters, the peer's ledger, events. What did not fit, or was not sent, goes back
 * in the queue in its old place, unless the peer is gone.
 */
export class BatchSender {
  private readonly components: BatchSenderComponents
  private readonly targetSize: number

  constructor(components: BatchSenderComponents, init: BatchSenderInit) {
    this.components = components
    this.targetSize = init.targetMessageSize
  }

  /**
   * Pops the tasks that should fit one message (block sizes from the cache's index, else the
   * peer's average) and starts every block load at once, so disk reads overlap instead of queuing
   * one behind the other. Blocks sent lately to any peer come first among equal priorities.
   */
  private pick(peer: PeerState, format: WireFormat): Picked[] {
    const { blocks, policy, recent } = this.components
    const picked: Picked[] = []
    const preferRecent = (task: Task) => task.kind === 'block' && recent.has(task.key)
    let estimate = 0
    while (peer.queue.size > 0 && estimate < this.targetSize) {
      const task = peer.queue.pop(preferRecent)
      if (task === undefined) break
      let kind = task.kind
      let reason = task.reason
      if (kind !== 'dont-have' && policy.isDenied(task.cid)) {
        // Denied after it was queued: refused here, and recorded as every other refusal is.
        kind = 'dont-have'
        reason = 'blacklisted_cid'
        this.components.events?.onRefusal?.(task.cid, peer.id, 'blacklisted_cid', policy.current().version)
      }
      if (kind === 'block') {
        if (format === 'v0' && task.cid.version !== 0) continue // a 1.0.0 peer can only take CIDv0 blocks
        const known = blocks.size?.(task.cid)
        const expected = known ?? (peer.avgBlock || UNKNOWN_BLOCK_ESTIMATE)
        // A block over the target goes alone; one that would overflow this message waits for the next.
        if (picked.length > 0 && estimate + expected > this.targetSize) {
          peer.queue.requeue(task)
          break
        }
        // Bytes the cache handed over with the block's arrival go as they are; others are read now.
        const bytes =
          task.bytes !== undefined ? Promise.resolve(task.bytes) : blocks.get(task.cid).catch(() => undefined)
        picked.push({ task, kind, bytes })
        // Recent from now: another peer wanting it joins this read (or finds it in the hot set).
        recent.add(task.key, expected)
        estimate += expected + BLOCK_OVERHEAD
      } else {
        picked.push({ task, kind, reason })
        estimate += task.cid.bytes.byteLength + PRESENCE_OVERHEAD
      }
    }
    return picked
  }

  /** The picked tasks as answers: blocks with their bytes, and the presences the protocol allows. */
  private async answers(peer: PeerState, picked: Picked[], presencesAllowed: boolean): Promise<Answer[]> {
    const answers: Answer[] = []
    for (const { task, bytes: loading, ...p } of picked) {
      let { kind, reason } = p
      if (kind === 'block') {
        const bytes = await loading
        if (bytes !== undefined && bytes.byteLength <= MAX_BLOCK_SIZE) {
          answers.push({ kind: 'block', cid: task.cid, bytes, task })
          continue
        }
        if (bytes !== undefined)
          this.components.logger.warn(
            { cid: task.cid.toString(), size: bytes.byteLength, peer: peer.id },
            'block over 2 MiB is never sent'
          )
        kind = 'dont-have'
        reason = 'failed_block_load'
      }
      if (!presencesAllowed) continue
      if (kind === 'have') answers.push({ kind: 'have', cid: task.cid, task })
      else if (task.sendDontHave) answers.push({ kind: 'dont-have', cid: task.cid, task: { ...task, reason } })
    }
    return answers
  }

  /** Takes tasks up to the target size, waits for their blocks, sends one message. */
  async send(peer: PeerState): Promise<void> {
    const { streams, peers, counters, ledger, events, logger } = this.components
    const protocol = streams.protocol(peer.id) ?? peer.protocol
    const format = formatFor(protocol)
    const presencesAllowed = protocol === PROTOCOL_120
    const answers = await this.answers(peer, this.pick(peer, format), presencesAllowed)
    const [message, ...rest] = packMessages(answers, this.targetSize)
    if (message === undefined) return
    // Larger than the index said (or than the average): next message, if the peer is still here.
    if (peers.isCurrent(peer)) for (const m of rest) for (const { task } of m.entries) peer.queue.requeue(task)
    for (const { bytes } of message.blocks)
      peer.avgBlock = peer.avgBlock === 0 ? bytes.byteLength : (peer.avgBlock * 7 + bytes.byteLength) / 8
    const pendingBytes = format === 'v1' && presencesAllowed ? Math.round(peer.queue.size * peer.avgBlock) : 0
    const body = encodeMessage({ blocks: message.blocks, presences: message.presences, pendingBytes }, format)
    try {
      await streams.send(peer.peerId, encodeFrame(body), { more: () => peer.queue.size > 0 })
    } catch (err) {
      if (err instanceof PeerNotReadingError) {
        // Not reading: stop feeding this peer. Its wants stay; a later message may retry.
        logger.info({ peer: peer.id, dropped: peer.queue.size }, 'peer is not reading; dropping its queued responses')
        peer.queue.clear()
      } else if (peers.isCurrent(peer)) {
        // Not sent: the wants are still open, so answer them on the next stream (unless the peer is gone).
        for (const { task } of message.entries) peer.queue.requeue(task)
      }
      throw err
    }
    for (const { kind, task } of message.entries) {
      if (kind === 'block') {
        counters.blocksSent++
        peer.blocksSent++
        ledger.remove(peer.id, task.key)
      } else if (kind === 'have') {
        counters.haves++
        // A want-have is answered by HAVE; a want-block stays until its block is sent.
        if (ledger.get(peer.id, task.key)?.wantType === WantType.Have) ledger.remove(peer.id, task.key)
      } else counters.dontHaves++
      const topic = kind === 'block' ? 'BLOCK' : kind === 'have' ? 'HAVE' : 'DONT_HAVE'
      events?.onResponse?.(topic, kind === 'dont-have' ? task.reason : undefined)
    }
    counters.bytesSent += body.byteLength
    peer.bytesSent += body.byteLength
    events?.onBytesSent?.(body.byteLength)
  }
}
