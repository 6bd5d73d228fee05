import type { AbortOptions, Logger } from '@autoretrieve/interface'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import type { DecodedMessage } from './codec.ts'

/** The block cache satisfies this. */
export interface BlockSource {
  has(cid: CID, options?: AbortOptions): Promise<boolean>
  /**
   * `has` answered at once, when the source knows without I/O. A 256-entry wantlist took ~12 ms
   * with an await per entry, and the replies it made ready waited behind it.
   */
  contains?(cid: CID): boolean
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined>
  /** A stored block's size without reading it, if known: lets a message be packed before its blocks load. */
  size?(cid: CID): number | undefined
  onBlock(listener: (cid: CID, bytes: Uint8Array) => void): () => void
}

export type DontHaveReason =
  | 'blacklisted_cid'
  | 'disabled_retriever'
  | 'failed_block_load'
  | 'no_candidates'
  | 'all_filtered'
  | 'retrieval_failed'
  | 'timeout'
  // admission control and the indexer (issue 13)
  | 'indexer_failed'
  | 'rate_limited'
  | 'overloaded'

export type MissResult = { ok: true } | { ok: false; reason: DontHaveReason }

/**
 * Called for a want whose block the cache lacks, once per multihash while a miss is outstanding
 * (not once per peer). Resolve when the retrieval ended; blocks reach peers through the cache.
 */
export type MissHandler = (miss: { cid: CID; peer: PeerId }, options: { signal: AbortSignal }) => Promise<MissResult>

export interface PolicyView {
  current(): { version: number }
  subscribe(listener: (next: { version: number }, previous: { version: number }) => void): () => void
  isDenied(cid: CID): boolean
}

/** Optional hooks the app maps to metrics and records. Called synchronously; keep them cheap. */
export interface BitswapEvents {
  onWant?(wantType: 'block' | 'have'): void
  onResponse?(topic: 'BLOCK' | 'HAVE' | 'DONT_HAVE', reason?: string): void
  onHit?(): void
  onMiss?(): void
  onRefusal?(cid: CID, peer: string, reason: DontHaveReason, policyVersion: number): void
  onBytesSent?(bytes: number): void
}

export interface BitswapServerComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'addEventListener' | 'removeEventListener'>
  blocks: BlockSource
  policy: PolicyView
  /** Default: silent. */
  logger?: Logger
  events?: BitswapEvents
}

export interface BitswapServerInit {
  /** max-bitswap-workers: peers served at once; 1 (the Go default) means DEFAULT_SEND_CONCURRENCY. */
  maxWorkers?: number
  maxWantlistEntriesPerPeer?: number
  targetMessageSize?: number
  /**
   * How many bytes of recently read blocks the block source keeps in memory (the cache's
   * hotSetBytes). Blocks taken for a peer within that many bytes are served first to the others.
   */
  hotBytes?: number
  /** Bytes of landed blocks one peer's queue keeps to send from memory (DEFAULT_MAX_HELD_BYTES_PER_PEER). */
  maxHeldBytesPerPeer?: number
  /** The same bound across all peers together (DEFAULT_MAX_HELD_BYTES). */
  maxHeldBytes?: number
  maxIncomingMessageSize?: number
  /** Absent (disable-retrieval): misses are answered DONT_HAVE, reason disabled_retriever. */
  missHandler?: MissHandler
}

export interface BitswapStats {
  peers: number
  wants: number
  wantsReceived: number
  blocksSent: number
  bytesSent: number
  dontHaves: number
  haves: number
  hits: number
  misses: number
  malformed: number
  droppedEntries: number
}

export interface PeerStats {
  peer: string
  wants: number
  queued: number
  bytesSent: number
  blocksSent: number
}

export interface BitswapServer {
  start(): Promise<void>
  stop(): Promise<void>
  /**
   * Blocks and presences other peers send us (answers to our client's wants arrive on the same
   * protocol handler as wants do). Returns an unsubscribe function.
   */
  onResponse(listener: (peer: string, msg: DecodedMessage) => void): () => void
  stats(): BitswapStats
  peers(): PeerStats[]
}
