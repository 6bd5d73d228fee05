import type { PeerId } from '@libp2p/interface'
import { PROTOCOL_120 } from './constants.ts'
import { type HeldBytes, PeerQueue } from './peer-queue.ts'

/** What the server keeps about one connected peer: its queue of answers and its counters. */
export interface PeerState {
  id: string
  peerId: PeerId
  queue: PeerQueue
  /** Protocol of the peer's latest inbound stream: what it speaks, so what we answer in. */
  protocol: string
  bytesSent: number
  blocksSent: number
  malformed: number
  /** Average size of blocks sent, to estimate pendingBytes without reading queued blocks. */
  avgBlock: number
}

/**
 * The peers the server knows, by peer ID string, and the one count of block bytes held in all
 * their queues together (each queue also counts its own). A state dropped from here (disconnect,
 * stop) is no longer current: work finishing for it afterwards must not touch its queue again.
 */
export class PeerRegistry {
  readonly held: HeldBytes = { bytes: 0 }
  private readonly peers = new Map<string, PeerState>()

  /** The peer's state, made on its first message. */
  open(peerId: PeerId): PeerState {
    const id = peerId.toString()
    let state = this.peers.get(id)
    if (state === undefined) {
      state = {
        id,
        peerId,
        queue: new PeerQueue(this.held),
        protocol: PROTOCOL_120,
        bytesSent: 0,
        blocksSent: 0,
        malformed: 0,
        avgBlock: 0
      }
      this.peers.set(id, state)
    }
    return state
  }

  get(id: string): PeerState | undefined {
    return this.peers.get(id)
  }

  /** Whether `state` is still the record of its peer (not dropped by a disconnect or stop). */
  isCurrent(state: PeerState): boolean {
    return this.peers.get(state.id) === state
  }

  /** Forgets a peer and lets go of its queued work (and the bytes it held). */
  drop(id: string): PeerState | undefined {
    const state = this.peers.get(id)
    if (state === undefined) return undefined
    this.peers.delete(id)
    state.queue.clear()
    return state
  }

  clear(): void {
    for (const id of [...this.peers.keys()]) this.drop(id)
  }

  values(): IterableIterator<PeerState> {
    return this.peers.values()
  }
}
