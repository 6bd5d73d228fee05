import { canonicalPeerId } from './peer-id.ts'
import type { Candidate, GraphsyncMetadata, TransportProtocol } from './types.ts'

const union = <T>(a: T[], b: T[]) => [...new Set([...a, ...b])]

/** Of two graphsync offers from one peer, the one Lassie would keep: verified, then fast retrieval. */
function better(a: GraphsyncMetadata | undefined, b: GraphsyncMetadata | undefined) {
  if (a === undefined) return b
  if (b === undefined) return a
  const score = (g: GraphsyncMetadata) => (g.verifiedDeal ? 2 : 0) + (g.fastRetrieval ? 1 : 0)
  return score(b) > score(a) ? b : a
}

function merge(into: Candidate, c: Candidate): void {
  into.addrs = union(into.addrs, c.addrs)
  into.protocols = union(into.protocols, c.protocols)
  into.httpUrls = union(into.httpUrls, c.httpUrls)
  const graphsync = better(into.graphsync, c.graphsync)
  if (graphsync) into.graphsync = graphsync
}

/**
 * Groups candidates by provider. An indexer lists a provider once per advertisement and per
 * extended provider (Boost: graphsync on its libp2p addresses, HTTP on its HTTP address, same
 * peer ID), so one peer arrives as several records. `group` merges a batch into one candidate per
 * peer, leaves out our own peer, and across batches reports each (peer, protocol) once: a later
 * batch only yields a peer again for protocols not yet reported, with the addresses they came with.
 */
export class ProviderGrouper {
  readonly #self: string | undefined
  readonly #reported = new Map<string, Set<TransportProtocol>>()

  constructor(selfPeerId: string | undefined) {
    this.#self = selfPeerId === undefined ? undefined : (canonicalPeerId(selfPeerId) ?? selfPeerId)
  }

  group(batch: Candidate[]): Candidate[] {
    const byPeer = new Map<string, Candidate>()
    for (const c of batch) {
      if (c.peerId === this.#self) continue
      const done = this.#reported.get(c.peerId)
      const fresh = done ? c.protocols.filter((p) => !done.has(p)) : c.protocols
      if (fresh.length === 0) continue
      const slice = fresh.length === c.protocols.length ? c : { ...c, protocols: fresh }
      const prev = byPeer.get(c.peerId)
      if (prev === undefined) {
        byPeer.set(c.peerId, { ...slice, addrs: [...slice.addrs], httpUrls: [...slice.httpUrls] })
      } else {
        merge(prev, slice)
      }
    }
    for (const c of byPeer.values()) {
      const done = this.#reported.get(c.peerId) ?? new Set()
      for (const p of c.protocols) done.add(p)
      this.#reported.set(c.peerId, done)
    }
    return [...byPeer.values()]
  }
}
