import type { QueryResponse } from '@autoretrieve/filecoin'
import type { AbortOptions, ErrorClass, Logger, RetrievalRecord } from '@autoretrieve/interface'
import type { PaymentLane, RetrievalPayments } from '@autoretrieve/paych'
import type { PolicySnapshot } from '@autoretrieve/policy'
import type { Candidate, CandidateSource, TransportProtocol } from '@autoretrieve/routing'
import type { CID } from 'multiformats/cid'

/** Payment channels as the retriever pays with them (packages/paych's manager; defined there). */
export type { PaymentLane, RetrievalPayments }

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
  /**
   * The attempt waits on the node, not on the provider (a payment channel created or funded on
   * chain, which takes epochs): the attempt's timeouts stop until the returned release is called,
   * then start over. Bounded by the work itself (Lotus calls time out, the signal aborts).
   */
  hold?(): () => void
  /**
   * The candidate's answer to the retrieval query (Graphsync), when it gave one: the terms the
   * proposal is made at.
   */
  ask?: QueryResponse
  /** Paid retrievals (`paid-retrievals: true`, a priced ask let through by the caps): how to pay. */
  payment?: AttemptPayment
}

/** What an attempt at a priced ask pays with, and under which cap. */
export interface AttemptPayment {
  payments: RetrievalPayments
  /** `max-retrieval-cost` for this provider: no lane is opened, and no voucher signed, past it. Undefined: no cap. */
  maxRetrievalCost?: bigint
  /**
   * Called each time a voucher is signed: `cost` is the cumulative amount on the attempt's lane
   * (what it has paid so far, attoFIL) and `paymentChannel` the channel's robust address.
   */
  onPaid(cost: bigint, paymentChannel: string): void
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
  /**
   * Asks the provider its terms before any proposal (Graphsync: `/fil/retrieval/qry/1.0.0`).
   * Throws the filecoin package's QueryFailedError when there is no usable answer.
   */
  query?(candidate: Candidate, root: CID, options: { signal: AbortSignal; timeoutMs?: number }): Promise<QueryResponse>
}

/** Why a whole retrieval failed: the retrieval-level members of `ErrorClass`. */
export type FailureReason = Extract<
  ErrorClass,
  'no_candidates' | 'all_filtered' | 'retrieval_failed' | 'timeout' | 'indexer_failed' | 'rate_limited' | 'overloaded'
>

/** `cost`: attoFIL the retrieval's attempts paid, when any did (failed attempts' partial payments included). */
export type RetrievalResult =
  | {
      ok: true
      id: string
      root: string
      blocks: number
      bytes: number
      provider: string
      protocol: TransportProtocol
      cost?: bigint
    }
  | { ok: false; id: string; root: string; reason: FailureReason; error: Error; cost?: bigint }

export type RetrievalProgress =
  | { type: 'candidates'; found: number; accepted: number }
  | { type: 'attempt-started'; provider: string; protocol: TransportProtocol }
  | { type: 'block'; blocks: number; bytes: number }
  | { type: 'attempt-failed'; provider: string; protocol: TransportProtocol; errorClass: ErrorClass; message: string }

/** What the retriever tells its record writer, event by event (the store's record writer takes them as they are). */
export type { AttemptOutcome, RetrievalRecord } from '@autoretrieve/interface'

/** Where records go: the store's RecordWriter, or a test's array. Called on hot paths: must not throw. */
export interface RecordSink {
  record(event: RetrievalRecord): void
}

/** Hooks the app maps to metrics. Called synchronously; keep them cheap. */
export interface RetrieverEvents {
  onCandidates?(found: number, accepted: number): void
  onAttemptStarted?(protocol: TransportProtocol): void
  onAttemptEnded?(
    protocol: TransportProtocol,
    outcome: 'success' | 'failed' | 'cancelled',
    info: {
      bytes: number
      durationMs: number
      ttfbMs?: number
      errorClass?: ErrorClass
      /** attoFIL this attempt paid, when it paid anything. */
      cost?: bigint
    }
  ): void
  onRetrievalEnded?(ok: boolean, reason?: FailureReason): void
  /** A requester was refused a new retrieval (`rate_limited`): none was started. */
  onRateLimited?(): void
  onBytes?(protocol: TransportProtocol, bytes: number): void
  /** Once per retrieval whose Graphsync candidates were queried, when every query has settled. */
  onQueries?(summary: QueryPhaseSummary): void
  /** Once per retrieval as it ends, with what it came to (the node's `log-retrieval-stats` line). */
  onRetrievalFinished?(summary: RetrievalFinished): void
}

/** A finished retrieval in one record: who served it (or who was tried), how much, how long, how it ended. */
export interface RetrievalFinished {
  id: string
  cid: string
  ok: boolean
  /** Why it failed (absent on success). */
  reason?: FailureReason
  /** The provider and protocol that delivered (absent on failure). */
  provider?: string
  protocol?: TransportProtocol
  /** Every provider an attempt went to, in order. */
  providersTried: string[]
  bytes: number
  blocks: number
  durationMs: number
  /** attoFIL paid across its attempts, when anything was. */
  cost?: bigint
}

/** The block cache as the retriever uses it (the blockcache package's `BlockCache` fits). */
export interface RetrieverCache {
  has(cid: CID): Promise<boolean>
  get(cid: CID): Promise<Uint8Array | undefined>
  /** `hashChecked`: the bytes were checked against the CID before the DAG walk (here, or by the adapter). */
  put(cid: CID, bytes: Uint8Array, options?: AbortOptions & { hashChecked?: boolean }): Promise<boolean>
}

export interface RetrieverComponents {
  cache: RetrieverCache
  /** The current policy snapshot (read at each decision, so a change applies at once). */
  policy: () => PolicySnapshot
  candidates: CandidateSource
  adapters: ProtocolAdapter[]
  records?: RecordSink
  events?: RetrieverEvents
  logger?: Logger
  /**
   * Payment channels, for `paid-retrievals: true`: a priced Graphsync ask within the caps (the
   * policy's max-price-per-byte, max-unseal-price, max-retrieval-cost per provider, and what
   * `remainingToday()` leaves) is proposed to at its prices and paid as verified bytes arrive.
   * Without it a priced ask is passed over (`paych`) even with paid retrievals on.
   */
  payments?: RetrievalPayments
}

/** What one retrieval's query phase came to (the Go node's `*_successful_queries*` and `query_error_*` series). */
export interface QueryPhaseSummary {
  /** Candidates asked. */
  asked: number
  /** Queries that got a QueryResponse (any status). */
  answered: number
  /** Candidates the answers let through to a proposal (Available, and free unless paid-retrievals is on). */
  accepted: number
  /** The messages of queries with no usable answer, or answered Error (the provider's words). */
  failures: string[]
  /** The class each passed-over candidate was recorded with. */
  passedOver: ErrorClass[]
}

export interface RetrieverInit {
  /** Retrievals at once across all providers; 0 = unlimited. @default 16 (DEFAULT_MAX_CONCURRENT_RETRIEVALS) */
  maxConcurrentRetrievals?: number
  /** Retrievals waiting for a slot; past this one fails at once, `overloaded`. @default 256 (DEFAULT_MAX_QUEUED_RETRIEVALS) */
  maxQueuedRetrievals?: number
  /**
   * New retrievals per second one requester (`RetrieveOptions.requestedBy`) may start after its
   * burst; past it `retrieve` answers `rate_limited` without starting one. Joining a running
   * retrieval costs nothing. 0 = no limit. @default 10 (DEFAULT_PEER_RETRIEVAL_RATE)
   */
  requesterRatePerSecond?: number
  /** @default 100 (DEFAULT_PEER_RETRIEVAL_BURST) */
  requesterBurst?: number
  /** Start the next protocol this long after the previous one. @default 100 (DEFAULT_PROTOCOL_STAGGER_MS) */
  staggerMs?: number
  /** Start the next candidate of one protocol this long after the previous one. @default 1000 (CANDIDATE_STAGGER_MS) */
  candidateStaggerMs?: number
  /**
   * `paid-retrievals`: false (default) passes over a Graphsync provider whose query answer asks a
   * price (`paid_not_allowed`) without proposing to it; true pays it through `payments` within
   * the caps (`price_too_high` past them).
   */
  paidRetrievals?: boolean
  /** Dial-to-answer bound of each retrieval query. @default DEFAULT_QUERY_TIMEOUT_MS */
  queryTimeoutMs?: number
}

export interface RetrieveOptions extends AbortOptions {
  /**
   * The peer whose want started this (records "who asked"), and the key of its admission bucket:
   * a peer ID for Bitswap, e.g. `ip:<address>` for an HTTP client. Absent: no per-requester limit
   * (the operator's own `fetch`).
   */
  requestedBy?: string
  /** Use these instead of asking the indexer (the `fetch --provider` command). */
  providers?: Candidate[]
  onProgress?(event: RetrievalProgress): void
}

/** What `missHandler` answers the Bitswap server (its `MissResult`). */
export type MissOutcome = { ok: true } | { ok: false; reason: FailureReason }

export interface RetrieverStats {
  /** Retrievals running now. */
  active: number
  succeeded: number
  failed: number
  /** Bytes and blocks written to the cache from providers, across all retrievals. */
  bytes: number
  blocks: number
  /** Roots with a retrieval in flight (waiters of one root share it). */
  inflight: number
  /** Failed retrievals by reason; `failed` is their sum. */
  failures: Partial<Record<FailureReason, number>>
  /** Requests refused `rate_limited`: no retrieval was started, so they are not in `failed`. */
  rateLimited: number
}

/**
 * The miss path: fetches a DAG from storage providers into the cache. One retrieval per root at a
 * time, shared by every waiter; a want for a block that a running retrieval has seen a link to
 * joins that retrieval.
 */
export interface Retriever {
  /**
   * Retrieves the DAG under `cid` into the cache, or joins the retrieval already fetching it.
   * Resolves with the outcome (a failure is a result, not a rejection); rejects only when
   * `options.signal` aborts, and the retrieval stops once no waiter is left.
   */
  retrieve(cid: CID, options?: RetrieveOptions): Promise<RetrievalResult>
  /** The Bitswap server's miss handler: a want for a block we lack starts (or joins) its retrieval. */
  missHandler(miss: { cid: CID; peer: { toString(): string } }, options: { signal: AbortSignal }): Promise<MissOutcome>
  /** Running totals for the admin API's stats. */
  stats(): RetrieverStats
}
