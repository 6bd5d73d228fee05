import type { ConfigWarning } from './keys.ts'

export interface MinerConfig {
  /** Inactivity timeout: no new verified bytes for this long aborts the attempt. */
  retrievalTimeoutMs: number
  /** Concurrent retrievals against one provider; 0 = unlimited. */
  maxConcurrentRetrievals: number
  /** Bytes per second from one provider; 0 = unlimited. */
  maxBytesPerSecond: number
  /** Connect and first verified block within this long, else the next candidate; 0 = none. */
  firstByteTimeoutMs: number
  /** Price caps (issue 16), attoFIL; undefined: no cap. A provider asking more is passed over (`price_too_high`). */
  maxPricePerByte?: bigint
  maxUnsealPrice?: bigint
  /** Per retrieval: size × price per byte + unseal price. */
  maxRetrievalCost?: bigint
}

export type RetrievalProtocol = 'http' | 'graphsync' | 'bitswap'

export interface AutoretrieveConfig {
  dataDir: string
  advertiseEndpointUrl: string
  advertiseEndpointToken: string
  heartbeatIntervalMs: number
  lookupEndpointType: 'indexer' | 'estuary'
  lookupEndpointUrl: string
  maxBitswapWorkers: number
  routingTableType: 'dht' | 'full' | 'disabled'
  pruneThresholdBytes: number
  pinDurationMs: number
  logResourceManager: boolean
  logRetrievalStats: boolean
  disableRetrieval: boolean
  paidRetrievals: boolean
  /** attoFIL this node may pay in one UTC day across all retrievals; undefined: no cap. */
  maxSpendPerDay?: bigint
  /** Reuse a payment channel holding at least this much not yet paid out, else add funds. */
  paychMinAvailable: bigint
  /** What a new channel is created with, and what is added to one that runs low (more if a retrieval needs it). */
  paychFundAmount: bigint
  cidBlacklist: string[]
  minerBlacklist: string[]
  minerWhitelist: string[]
  defaultMinerConfig: MinerConfig
  minerConfigs: Record<string, MinerConfig>
  eventRecorderEndpointUrl: string
  instanceName: string
  databaseUrl: string
  adminListen: { host: string; port: number }
  adminToken: string
  listenAddrs: string[]
  maxConcurrentRetrievals: number
  retrievalProtocols: RetrievalProtocol[]
  fullnodeApiInfo: string
  /** The trustless gateway's listener; null: off. */
  gatewayListen: { host: string; port: number } | null
  /** auto: human-readable on a terminal, JSON otherwise; pretty or json: always that. */
  logFormat: 'auto' | 'pretty' | 'json'
  // Admission control for misses (issue 13).
  /** Retrievals waiting for a global slot; past it a retrieval fails `overloaded`. */
  retrievalQueueSize: number
  /** New retrievals per second one peer may start after its burst; 0 = unlimited. */
  peerRetrievalRate: number
  peerRetrievalBurst: number
}

/** Values the CLI parsed from flags; undefined = not given. */
export interface ConfigFlags {
  dataDir?: string
  lookupEndpointUrl?: string
  lookupEndpointType?: string
  disableRetrieval?: boolean
  routingTableType?: string
  logResourceManager?: boolean
  databaseUrl?: string
  adminListen?: string
  listen?: string[]
  /** `--gateway-listen`: host:port, or empty to turn the gateway off. */
  gatewayListen?: string
  logFormat?: string
}

export interface LoadedConfig {
  config: AutoretrieveConfig
  configPath: string
  /** true when this load wrote a default config.yaml (first run). */
  created: boolean
  /** Keys of earlier Go releases that loaded but do nothing here: log each once. */
  warnings: ConfigWarning[]
}
