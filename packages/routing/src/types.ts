export type TransportProtocol = 'bitswap' | 'graphsync' | 'http'

export interface GraphsyncMetadata {
  pieceCid?: string
  verifiedDeal: boolean
  fastRetrieval: boolean
}

/** A storage provider that may hold the content, and how to reach it. */
export interface Candidate {
  peerId: string
  /** f0… when known (Estuary candidates name miners this way). */
  minerAddress?: string
  addrs: string[]
  protocols: TransportProtocol[]
  /** HTTP multiaddrs as base URLs (for the trustless gateway protocol). */
  httpUrls: string[]
  graphsync?: GraphsyncMetadata
  /** The payload root to retrieve: the requested CID, except Estuary's RootCid. */
  rootCid: string
  source: 'ipni' | 'delegated-routing' | 'estuary' | 'static'
}

export interface AbortOptions {
  signal?: AbortSignal
}

export interface CandidateSource {
  find(cid: import('multiformats/cid').CID, options?: AbortOptions): AsyncIterable<Candidate>
}

export interface MinerResolver {
  resolve(minerAddress: string, options?: AbortOptions): Promise<{ peerId: string; addrs: string[] }>
}

export interface Logger {
  debug(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
}

export type Fetch = typeof fetch
