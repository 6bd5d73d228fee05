import type { CID } from 'multiformats/cid'
import type { WantType } from './codec.ts'

export interface Want {
  cid: CID
  priority: number
  wantType: WantType
  sendDontHave: boolean
}

/**
 * Who wants what: per peer, wants keyed by multihash (`multihashKey`); and per multihash, the peers that want it,
 * so a landed block finds its waiters without scanning every peer (Helia's receivedBlock loops
 * over all ledgers). Plain data, no I/O: unit-testable on its own.
 */
export class WantLedger {
  private readonly byPeer = new Map<string, Map<string, Want>>()
  private readonly byKey = new Map<string, Set<string>>()
  private readonly maxPerPeer: number
  /** Entries refused because a peer's wantlist was full. */
  overflow = 0

  constructor(maxPerPeer: number) {
    this.maxPerPeer = maxPerPeer
  }

  /** Adds or updates a want; false when the peer's list is full (boxo evicts; we keep what was asked first). */
  add(peer: string, key: string, want: Want): boolean {
    let wants = this.byPeer.get(peer)
    if (wants === undefined) {
      wants = new Map()
      this.byPeer.set(peer, wants)
    }
    if (!wants.has(key) && wants.size >= this.maxPerPeer) {
      this.overflow++
      return false
    }
    wants.set(key, want)
    let peers = this.byKey.get(key)
    if (peers === undefined) {
      peers = new Set()
      this.byKey.set(key, peers)
    }
    peers.add(peer)
    return true
  }

  get(peer: string, key: string): Want | undefined {
    return this.byPeer.get(peer)?.get(key)
  }

  remove(peer: string, key: string): Want | undefined {
    const wants = this.byPeer.get(peer)
    const want = wants?.get(key)
    if (want === undefined) return undefined
    wants!.delete(key)
    if (wants!.size === 0) this.byPeer.delete(peer)
    const peers = this.byKey.get(key)
    peers?.delete(peer)
    if (peers?.size === 0) this.byKey.delete(key)
    return want
  }

  /** Forgets every want of a peer (full wantlist, or disconnect). */
  clear(peer: string): void {
    for (const key of [...(this.byPeer.get(peer)?.keys() ?? [])]) this.remove(peer, key)
  }

  /** The peers wanting this multihash, with their wants. */
  wanters(key: string): Array<[string, Want]> {
    const out: Array<[string, Want]> = []
    for (const peer of this.byKey.get(key) ?? []) {
      const want = this.byPeer.get(peer)?.get(key)
      if (want) out.push([peer, want])
    }
    return out
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys()
  }

  wantCount(peer: string): number {
    return this.byPeer.get(peer)?.size ?? 0
  }

  get peers(): number {
    return this.byPeer.size
  }

  get size(): number {
    let n = 0
    for (const w of this.byPeer.values()) n += w.size
    return n
  }
}
