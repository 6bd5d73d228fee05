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
  /** The instance that made the version that last changed this entry. */
  instance: string
}

export interface StoredMinerConfig {
  provider: string
  retrievalTimeoutMs: number | null
  maxConcurrentRetrievals: number | null
  maxBytesPerSecond: number | null
  /** Price caps: attoFIL as decimal text, 'none' for no cap; null falls back. */
  maxPricePerByte: string | null
  maxUnsealPrice: string | null
  maxRetrievalCost: string | null
  state: 'present' | 'removed'
  version: number
  changedAt: Date
  instance: string
}

export type PolicyChange =
  | { op: 'add' | 'remove'; list: ListName; values: string[]; reason?: string }
  | {
      op: 'set-miner-config'
      provider: string
      config: MinerConfigChange
    }
  | { op: 'delete-miner-config'; provider: string }
  /** A config.yaml layer (at start or on reload): stored with the version it makes. */
  | { op: 'reload'; layer: ConfigLayer; file: string; digest: string }

/** What an API change sets on a miner config; caps as decimal attoFIL text or 'none'. Absent: falls back. */
export interface MinerConfigChange {
  retrievalTimeoutMs?: number
  maxConcurrentRetrievals?: number
  maxBytesPerSecond?: number
  maxPricePerByte?: string
  maxUnsealPrice?: string
  maxRetrievalCost?: string
}

/** A config.yaml miner config as stored in a layer: caps as decimal attoFIL text, absent when not set. */
interface LayerMinerConfig {
  retrievalTimeoutMs: number
  maxConcurrentRetrievals: number
  maxBytesPerSecond: number
  maxPricePerByte?: string
  maxUnsealPrice?: string
  maxRetrievalCost?: string
}

/** A config.yaml's policy keys, as stored (the same shape as @autoretrieve/policy's ConfigPolicy). */
export interface ConfigLayer {
  cidBlacklist: string[]
  minerBlacklist: string[]
  minerWhitelist: string[]
  defaultMinerConfig: LayerMinerConfig
  minerConfigs: Record<string, LayerMinerConfig>
  retrievalProtocols: Array<'http' | 'graphsync' | 'bitswap'>
}

/** The config.yaml layer in force: which version brought it, from which instance and file. */
export interface StoredConfigLayer {
  version: number
  instance: string
  file: string
  digest: string
  layer: ConfigLayer
  createdAt: Date
}

export interface PolicyVersion {
  version: number
  createdAt: Date
  origin: 'api' | 'config' | 'startup'
  reason: string | null
  summary: string
  /** The instance-name of the node that made it ('' before migration 0003). */
  instance: string
}

/** What a start did with its config.yaml layer (see PolicyRepository.startLayer). */
export interface StartLayerOutcome {
  /** unchanged: the stored layer is this file's; published: this file made a new version; adopted: another's is kept. */
  action: 'unchanged' | 'published' | 'adopted'
  /** The layer in force afterwards. */
  layer: StoredConfigLayer
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
  /** The instance-name of the node that made it ('' before migration 0003). */
  instance: string
  /** 'running' until a retrieval-finished event lands. */
  status: RetrievalStatus
  reason: string | null
  /** Why it failed, in words (e.g. which indexer error, for `indexer_failed`); null on success or while running. */
  error: string | null
  bytes: number
  blocks: number
  /**
   * What it paid in attoFIL, a decimal string: the finish record's cost, else the sum of its
   * attempts' (so a running retrieval shows what it has paid so far); null when nothing was paid.
   */
  cost: string | null
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
  /** The instance-name of the node that refused ('' before migration 0003). */
  instance: string
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
