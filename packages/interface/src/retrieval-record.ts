import type { ErrorClass } from './error-class.ts'

/**
 * How a block is fetched from a provider; `http-gateway` marks the one attempt of a trustless
 * gateway request's record (its "provider" is the HTTP client).
 */
export type RetrievalProtocolName = 'http' | 'graphsync' | 'bitswap' | 'http-gateway'
/** Where a retrieval's candidates came from. */
export type CandidateSourceName = 'ipni' | 'delegated-routing' | 'estuary' | 'static'
/** Where one attempt against one provider stands. */
export type AttemptOutcome = 'running' | 'success' | 'failed' | 'cancelled'

/** A provider the routing source offered, and whether policy let it through (and why not). */
export interface CandidateVerdict {
  provider: string
  protocols: string[]
  addrs: string[]
  verdict: 'accepted' | 'dropped'
  reason: string | null
  policyVersion: number
}

/**
 * What happened to a retrieval, one record at a time: the retriever (and the Bitswap server, for
 * refusals) produce them, the store's record writer persists them in batches, and the history,
 * explain and metrics read them back. One definition for producer and consumer alike.
 */
export type RetrievalRecord =
  | {
      type: 'retrieval-started'
      id: string
      rootCid: string
      requestedCid: string
      requestedBy: string[]
      policyVersion: number
      at: Date
    }
  | {
      type: 'candidates'
      retrievalId: string
      source: CandidateSourceName
      candidates: CandidateVerdict[]
      at: Date
    }
  | {
      type: 'attempt'
      id: string
      retrievalId: string
      provider: string
      protocol: RetrievalProtocolName
      startedAt: Date
      connectedAt: Date | null
      firstByteAt: Date | null
      endedAt: Date | null
      bytes: number
      blocks: number
      outcome: AttemptOutcome
      errorClass: ErrorClass | null
      errorMessage: string | null
      /**
       * What this attempt paid the provider, in attoFIL as a decimal string (the sum of the vouchers
       * sent, i.e. the last voucher's cumulative amount on its lane); null or absent for a free attempt.
       * A string because attoFIL amounts do not fit a JavaScript number.
       */
      cost?: string | null
      /** The payment channel (robust f2… address) the attempt's vouchers were drawn on; null or absent when it paid nothing. */
      paymentChannel?: string | null
    }
  | {
      type: 'retrieval-finished'
      id: string
      status: 'success' | 'failed'
      reason: ErrorClass | null
      /** Why it failed, in words (for `indexer_failed`, the indexer's error); null on success. Absent from older writers. */
      error?: string | null
      bytes: number
      blocks: number
      /**
       * What the whole retrieval paid, in attoFIL as a decimal string: the sum of its attempts' costs,
       * failed attempts' partial payments included. Null or absent when nothing was paid.
       */
      cost?: string | null
      at: Date
    }
  | { type: 'refusal'; cid: string; peer: string; reason: string; policyVersion: number; at: Date }
