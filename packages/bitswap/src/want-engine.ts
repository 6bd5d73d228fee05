import { type Logger, multihashKey } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import { type WantEntry, WantType } from './codec.ts'
import { MAX_CID_LENGTH, WANT_HAVE_REPLACE_SIZE } from './constants.ts'
import type { Want, WantLedger } from './ledger.ts'
import type { PeerRegistry, PeerState } from './peers.ts'
import type { BitswapEvents, BitswapStats, BlockSource, DontHaveReason, MissHandler, PolicyView } from './types.ts'

export interface WantEngineComponents {
  blocks: BlockSource
  policy: PolicyView
  logger: Logger
  events?: BitswapEvents
  ledger: WantLedger
  peers: PeerRegistry
  counters: BitswapStats
  /** A peer's queue gained answers: the send side takes it from here. */
  schedule(peer: PeerState): void
}

export interface WantEngineInit {
  /** Absent: misses are refused with disabled_retriever. */
  missHandler?: MissHandler
  maxHeldBytesPerPeer: number
  maxHeldBytes: number
}

/**
 * From wants to answers, as boxo's decision engine: a wantlist's entries go into the ledger, each
 * is answered from the cache (a task in the peer's queue) or handed to the miss handler, once per
 * multihash however many peers wait; a block that lands (the cache's notify) is queued for every
 * peer still wanting it, through the ledger's index rather than a scan of every peer; a policy
 * change refuses the waiters of newly denied blocks. No streams here: only queues and the ledger.
 */
export class WantEngine {
  private readonly components: WantEngineComponents
  private readonly init: WantEngineInit
  /** Retrievals under way, by multihash key. */
  private readonly misses = new Map<string, AbortController>()

  constructor(components: WantEngineComponents, init: WantEngineInit) {
    this.components = components
    this.init = init
  }

  /**
   * Takes a peer's wantlist in. Hits are queued (and scheduled) as they are found; refusals are
   * queued for the caller's final schedule. True when a miss is waiting on a retrieval, so its
   * answer comes later.
   */
  async wantlist(peer: PeerState, wantlist: { entries: WantEntry[]; full: boolean }): Promise<boolean> {
    const { ledger, blocks, policy, counters, events } = this.components
    if (wantlist.full) {
      ledger.clear(peer.id)
      peer.queue.clear()
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
      const key = multihashKey(cid)
      if (entry.cancel) {
        ledger.remove(peer.id, key)
        peer.queue.remove(key)
        continue
      }
      counters.wantsReceived++
      events?.onWant?.(entry.wantType === WantType.Have ? 'have' : 'block')
      const want: Want = { cid, priority: entry.priority, wantType: entry.wantType, sendDontHave: entry.sendDontHave }
      if (policy.isDenied(cid)) {
        ledger.remove(peer.id, key)
        this.refuse(peer, want, key, 'blacklisted_cid')
        continue
      }
      if (!ledger.add(peer.id, key, want)) {
        counters.droppedEntries++
        continue
      }
      const present = blocks.contains ? blocks.contains(cid) : await blocks.has(cid).catch(() => false)
      if (present) {
        counters.hits++
        events?.onHit?.()
        peer.queue.push({
          key,
          cid,
          kind: answerKind(want, blocks.size?.(cid)),
          priority: want.priority,
          sendDontHave: want.sendDontHave
        })
        // Start sending now, not after the rest of the wantlist: a client that asked for 256
        // blocks at once waited for every miss among them to be set up before its first block.
        this.components.schedule(peer)
      } else {
        counters.misses++
        events?.onMiss?.()
        if (this.miss(peer, want, key)) awaitingRetrieval = true
      }
    }
    return awaitingRetrieval
  }

  /** Queues a DONT_HAVE (if the want asked for one) and reports the refusal. */
  private refuse(peer: PeerState, want: Want, key: string, reason: DontHaveReason): void {
    this.components.events?.onRefusal?.(want.cid, peer.id, reason, this.components.policy.current().version)
    if (want.sendDontHave)
      peer.queue.push({ key, cid: want.cid, kind: 'dont-have', priority: want.priority, sendDontHave: true, reason })
  }

  /** Asks the retriever for a block the cache lacks; false when there is no retriever to ask. */
  private miss(peer: PeerState, want: Want, key: string): boolean {
    const handler = this.init.missHandler
    if (handler === undefined) {
      this.refuse(peer, want, key, 'disabled_retriever')
      return false
    }
    if (this.misses.has(key)) return true // one retrieval per block, shared by every peer waiting for it
    const controller = new AbortController()
    this.misses.set(key, controller)
    const { ledger, blocks, logger } = this.components
    handler({ cid: want.cid, peer: peer.peerId }, { signal: controller.signal })
      .then(async (result) => {
        if (!result.ok) return this.failMiss(key, result.reason)
        // The retrieval ended well, but did this block land? (It may not be in the DAG retrieved.)
        if (ledger.wanters(key).length > 0 && !(await blocks.has(want.cid).catch(() => false)))
          this.failMiss(key, 'failed_block_load')
      })
      .catch((err) => {
        logger.debug({ err, cid: want.cid.toString() }, 'miss handler failed')
        this.failMiss(key, 'retrieval_failed')
      })
      .finally(() => this.misses.delete(key))
    return true
  }

  private failMiss(key: string, reason: DontHaveReason): void {
    // Refused by the node's own limits, not by the content: the want is dropped (the peer may ask
    // again later), so refused wants do not fill the peer's ledger.
    const drop = reason === 'rate_limited' || reason === 'overloaded'
    for (const [peerId, want] of this.components.ledger.wanters(key)) {
      const peer = this.components.peers.get(peerId)
      if (drop) this.components.ledger.remove(peerId, key)
      if (peer === undefined) continue
      this.refuse(peer, want, key, reason)
      this.components.schedule(peer)
    }
  }

  /** A block reached the cache: queue it for every peer waiting, with its bytes while within bounds. */
  blockLanded(cid: CID, bytes: Uint8Array): void {
    const { ledger, peers, policy } = this.components
    const key = multihashKey(cid)
    for (const [peerId, want] of ledger.wanters(key)) {
      const peer = peers.get(peerId)
      if (peer === undefined || policy.isDenied(want.cid)) continue
      const kind = answerKind(want, bytes.byteLength)
      // The cache verified these bytes a moment ago: keep them, within bounds, to send as they are.
      const hold =
        kind === 'block' &&
        peer.queue.heldBytes + bytes.byteLength <= this.init.maxHeldBytesPerPeer &&
        peers.held.bytes + bytes.byteLength <= this.init.maxHeldBytes
      peer.queue.push({
        key,
        cid: want.cid,
        kind,
        priority: want.priority,
        sendDontHave: want.sendDontHave,
        ...(hold ? { bytes } : {})
      })
      this.components.schedule(peer)
    }
  }

  /** The deny list changed: waiters of a newly denied block are refused and its retrieval stopped. */
  policyChanged(): void {
    const { ledger, peers, policy } = this.components
    for (const key of [...ledger.keys()]) {
      const wanters = ledger.wanters(key)
      if (wanters.length === 0 || !policy.isDenied(wanters[0][1].cid)) continue
      for (const [peerId, want] of wanters) {
        const peer = peers.get(peerId)
        ledger.remove(peerId, key)
        if (peer === undefined) continue
        peer.queue.remove(key)
        this.refuse(peer, want, key, 'blacklisted_cid')
        this.components.schedule(peer)
      }
      this.misses.get(key)?.abort()
    }
  }

  /** Aborts every retrieval under way. */
  stop(): void {
    for (const c of this.misses.values()) c.abort()
    this.misses.clear()
  }
}

/**
 * What a present block's want is answered with: a want-block with the block; a want-have with HAVE,
 * or with the block itself when it is small enough that HAVE would only cost the peer a round trip
 * to ask for it (boxo's DefaultWantHaveReplaceSize). A size the cache does not know gets HAVE.
 */
export function answerKind(want: Pick<Want, 'wantType'>, size: number | undefined): 'have' | 'block' {
  if (want.wantType !== WantType.Have) return 'block'
  return size !== undefined && size <= WANT_HAVE_REPLACE_SIZE ? 'block' : 'have'
}
