/** Where a policy entry came from: config.yaml, or the admin API on top of it. */
export type EntryOrigin = 'config' | 'api'

/** Why a CID was refused or a candidate dropped: stable codes, shared by records, metrics and the API. */
export type PolicyReason =
  | 'blacklisted_cid'
  | 'denied_provider'
  | 'not_allowlisted'
  | 'protocol_disabled'
  /** A miner address on the deny list has not resolved to a peer ID yet: no provider known only by peer ID is contacted. */
  | 'deny_unresolved'

export type RetrievalProtocol = 'http' | 'graphsync' | 'bitswap'

export interface MinerConfig {
  /** Inactivity timeout: no new verified bytes for this long aborts the attempt. */
  retrievalTimeoutMs: number
  /** Concurrent retrievals against this provider (0 = unlimited). */
  maxConcurrentRetrievals: number
  /** Cap on bytes per second from this provider (0 = unlimited). */
  maxBytesPerSecond: number
  /**
   * Connect and first verified block within this long, or the attempt fails `timeout` and the next
   * candidate starts (`first-byte-timeout`; 0 = none). Unset: DEFAULT_FIRST_BYTE_TIMEOUT_MS.
   * Optional so that limits written before it existed (the admin API's rows) still load.
   */
  firstByteTimeoutMs?: number
  /** Price caps in attoFIL (issue 16); undefined: no cap. */
  maxPricePerByte?: bigint
  maxUnsealPrice?: bigint
  /** Per retrieval: size × price per byte + unseal price. */
  maxRetrievalCost?: bigint
}

/**
 * Who put an entry where it is, and when: for an `api` entry the version that last set it and the
 * instance that made that version; for a `config` entry the version that stored the config.yaml
 * layer, the instance that brought it and its file.
 */
export interface EntrySource {
  version: number
  /** The instance-name ('' for versions made before instances were recorded). */
  instance: string
  /** ISO 8601. */
  at: string
  /** config.yaml's path on that instance (config entries only). */
  file?: string
}

export interface CidEntry {
  /** The CID as the operator wrote it. */
  cid: string
  origin: EntryOrigin
  reason?: string
  added?: EntrySource
}

export interface ProviderEntry {
  /** A libp2p peer ID or a Filecoin miner address (f0…). */
  provider: string
  origin: EntryOrigin
  reason?: string
  /** For a miner address, once resolution is in use: what Lotus answered for it. */
  resolution?: MinerResolution
  added?: EntrySource
}

export interface MinerConfigEntry extends MinerConfig {
  provider: string
  origin: EntryOrigin
  /** For a miner address, once resolution is in use: what Lotus answered for it. */
  resolution?: MinerResolution
  added?: EntrySource
}

/** The change that made a snapshot's version. */
export interface PolicyChangeInfo {
  version: number
  origin: string
  instance: string
  summary: string
  reason?: string
  /** ISO 8601. */
  at: string
}

/** The config.yaml layer a snapshot is built on, and where it came from. */
export interface ConfigLayerInfo {
  version: number
  instance: string
  file: string
  digest: string
  /** ISO 8601. */
  at: string
}

/**
 * A miner address's peer ID as Lotus (StateMinerInfo) gave it. `stale`: the last refresh failed
 * and this is the answer before it, kept until Lotus answers again.
 */
export type MinerResolution =
  | { state: 'resolved'; peerId: string; resolvedAt: string; stale?: boolean; error?: string }
  | { state: 'unresolved'; error?: string }

/**
 * One immutable, versioned view of the operator's policy. Readers take the current snapshot and
 * never see half of a change; a change makes a new snapshot with a higher version.
 */
export interface PolicySnapshot {
  readonly version: number
  /** Keyed by the multihash (base58btc), so CIDv0 and CIDv1 of the same content match alike. */
  readonly deniedCids: ReadonlyMap<string, CidEntry>
  readonly deniedProviders: ReadonlyMap<string, ProviderEntry>
  /** Empty: every provider allowed. Otherwise only these. */
  readonly allowedProviders: ReadonlyMap<string, ProviderEntry>
  readonly defaultMinerConfig: MinerConfig
  readonly minerConfigs: ReadonlyMap<string, MinerConfigEntry>
  readonly retrievalProtocols: ReadonlySet<RetrievalProtocol>
  /**
   * Miner addresses (f0…) of the lists and miner configs and what they resolved to. Undefined:
   * resolution is not in use (a policy read without Lotus), and addresses match only a
   * candidate that carries the same address.
   */
  readonly resolutions?: ReadonlyMap<string, MinerResolution>
  /** Peer ID -> the listed miner addresses resolved to it. */
  readonly addressesByPeer?: ReadonlyMap<string, readonly string[]>
  /** The deny list's miner addresses with no peer ID yet (worked out once per snapshot). */
  readonly unresolvedDenials?: readonly string[]
  /** The change that made this version (absent at version 0 and in hand-built snapshots). */
  readonly change?: PolicyChangeInfo
  /** The stored config.yaml layer under this version (absent before one was stored). */
  readonly configLayer?: ConfigLayerInfo
}

export type ProviderVerdict = { allowed: true } | { allowed: false; reason: PolicyReason }
