import type { Candidate, TransportProtocol } from '@autoretrieve/routing'
import type { CID } from 'multiformats/cid'

export interface AbortOptions {
  signal?: AbortSignal
}

export interface Logger {
  debug(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
}

/** A block from a provider, or (local) one the cache already held, passed so the walk can go on. */
export interface AdapterBlock {
  cid: CID
  bytes: Uint8Array
  local?: boolean
  /**
   * The CID's multihash was computed from these bytes on arrival (Graphsync and Bitswap carry a
   * CID prefix, not a CID), so they match by construction and the engine does not hash them again.
   * Never set it for a CID that came from the wire (a CAR's).
   */
  hashed?: boolean
}

export interface AdapterContext {
  signal: AbortSignal
  /** The cache: Bitswap resumes from it (blocks it holds are not asked for again). */
  getLocal(cid: CID): Promise<Uint8Array | undefined>
  /** Called when the connection or request is established (records "connected at"). */
  onConnected(): void
}

/**
 * One retrieval protocol. Adapters only fetch; the engine verifies every block (hash and DAG
 * shape), writes it to the cache and decides when an attempt has failed. A Graphsync adapter plugs
 * in here without engine changes.
 */
export interface ProtocolAdapter {
  readonly protocol: TransportProtocol
  /** Blocks arrive in DFS order (a CAR) rather than in an order the adapter picks. */
  readonly ordered: boolean
  /** Whether this candidate can be reached by this protocol at all. */
  supports(candidate: Candidate): boolean
  retrieve(candidate: Candidate, root: CID, ctx: AdapterContext): AsyncIterable<AdapterBlock>
}

export type FailureReason = 'no_candidates' | 'all_filtered' | 'retrieval_failed' | 'timeout'

export type RetrievalResult =
  | { ok: true; id: string; root: string; blocks: number; bytes: number; provider: string; protocol: TransportProtocol }
  | { ok: false; id: string; root: string; reason: FailureReason; error: Error }

export type RetrievalProgress =
  | { type: 'candidates'; found: number; accepted: number }
  | { type: 'attempt-started'; provider: string; protocol: TransportProtocol }
  | { type: 'block'; blocks: number; bytes: number }
  | { type: 'attempt-failed'; provider: string; protocol: TransportProtocol; errorClass: string; message: string }
