import type { CandidateSourceName, CandidateVerdict, RetrievalRecord } from '@autoretrieve/interface'

export type ListName = 'cid-deny' | 'provider-deny' | 'provider-allow'

export interface StoredEntry {
  list: ListName
  value: string
  key: string
  state: 'present' | 'removed'
  reason: string | null
  version: number
  changedAt: Date
}

export interface StoredMinerConfig {
  provider: string
  retrievalTimeoutMs: number | null
  maxConcurrentRetrievals: number | null
  maxBytesPerSecond: number | null
  state: 'present' | 'removed'
  version: number
}

export type PolicyChange =
  | { op: 'add' | 'remove'; list: ListName; values: string[]; reason?: string }
  | {
      op: 'set-miner-config'
      provider: string
      config: { retrievalTimeoutMs?: number; maxConcurrentRetrievals?: number; maxBytesPerSecond?: number }
    }
  | { op: 'delete-miner-config'; provider: string }
  | { op: 'reload' }

export interface PolicyVersion {
  version: number
  createdAt: Date
  origin: 'api' | 'config' | 'startup'
  reason: string | null
  summary: string
}

export type { AttemptOutcome, RetrievalProtocolName } from '@autoretrieve/interface'
/** What the record writer takes: the retrieval record, defined once in @autoretrieve/interface. */
export type RecordEvent = RetrievalRecord
export type CandidateSource = CandidateSourceName

export type RetrievalStatus = 'running' | 'success' | 'failed'

/** One retrieval as listed: what was asked, by whom, under which policy, and how it ended. */
export interface RetrievalSummary {
  id: string
  rootCid: string
  requestedCid: string
  requestedBy: string[]
  policyVersion: number
  /** 'running' until a retrieval-finished event lands. */
  status: RetrievalStatus
  reason: string | null
  /** Why it failed, in words (e.g. which indexer error, for `indexer_failed`); null on success or while running. */
  error: string | null
  bytes: number
  blocks: number
  startedAt: Date
  endedAt: Date | null
}

/** A candidate's verdict as read back, with where it came from and when. */
export interface CandidateRecord extends CandidateVerdict {
  source: CandidateSource
  at: Date
}

/** One try at one provider over one protocol, as read back: the attempt record as written, less its retrieval's ID. */
export type AttemptRecord = Omit<Extract<RetrievalRecord, { type: 'attempt' }>, 'type' | 'retrievalId'>

/** A retrieval with its candidates (in the order found) and attempts (by start time). */
export interface RetrievalDetail extends RetrievalSummary {
  candidates: CandidateRecord[]
  attempts: AttemptRecord[]
}

export interface RefusalRecord {
  peer: string
  reason: string
  policyVersion: number
  at: Date
}

export interface RetrievalQuery {
  cid?: string
  provider?: string
  status?: string
  limit?: number
  cursor?: string
}
