import type { AbortOptions } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'

export type TransportProtocol = 'bitswap' | 'graphsync' | 'http'

/** The 0x0910 metadata payload: which piece holds the data and on what deal terms. */
export interface GraphsyncMetadata {
  pieceCid?: string
  verifiedDeal: boolean
  fastRetrieval: boolean
}

/** A storage provider that may hold the content, and how to reach it. */
export interface Candidate {
  /** libp2p peer ID. */
  peerId: string
  /** f0… when known (Estuary candidates and Lotus name miners this way). */
  minerAddress?: string
  /** Multiaddrs as strings. */
  addrs: string[]
  /** From the metadata: 0x0900 bitswap, 0x0910 graphsync, 0x0920 http. */
  protocols: TransportProtocol[]
  /** HTTP multiaddrs as base URLs, no trailing slash (for the trustless gateway protocol). */
  httpUrls: string[]
  graphsync?: GraphsyncMetadata
  /** The payload root to retrieve: the requested CID, except Estuary's RootCid. */
  rootCid: string
  /** Where the candidate came from; 'static' is a provider the operator named (`fetch --provider`). */
  source: 'ipni' | 'delegated-routing' | 'estuary' | 'static'
}

export interface CandidateSource {
  /** Candidates for a CID as the source finds them. Zero candidates is an empty stream, not an error. */
  find(cid: CID, options?: AbortOptions): AsyncIterable<Candidate>
}

export interface MinerResolver {
  /** A miner address (f0…) as its libp2p peer and addresses, from the chain. */
  resolve(minerAddress: string, options?: AbortOptions): Promise<{ peerId: string; addrs: string[] }>
}

export type Fetch = typeof fetch
