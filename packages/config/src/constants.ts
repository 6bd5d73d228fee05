import { hostname } from 'node:os'
import { DEFAULT_FIRST_BYTE_TIMEOUT_MS } from '@autoretrieve/interface'
import type { AutoretrieveConfig } from './types.ts'

/** The Go autoretrieve's defaults (specs/estuary-autoretrieve.md §6.3) plus this node's new keys. */
export const DEFAULTS: Omit<AutoretrieveConfig, 'dataDir' | 'listenAddrs'> = {
  advertiseEndpointUrl: '',
  advertiseEndpointToken: '',
  // Go: 15s
  heartbeatIntervalMs: 15_000,
  lookupEndpointType: 'indexer',
  lookupEndpointUrl: 'https://cid.contact',
  maxBitswapWorkers: 1,
  routingTableType: 'dht',
  pruneThresholdBytes: 0,
  // Go: 1h
  pinDurationMs: 3_600_000,
  logResourceManager: false,
  logRetrievalStats: false,
  disableRetrieval: false,
  paidRetrievals: false,
  // Issue 16: 0.1 FIL a day; the Go node had no cap. Channel sizes as Go's paychmgr use:
  // reuse a channel with 0.01 FIL left, else add 0.02 FIL.
  maxSpendPerDay: 100_000_000_000_000_000n,
  paychMinAvailable: 10_000_000_000_000_000n,
  paychFundAmount: 20_000_000_000_000_000n,
  cidBlacklist: [],
  minerBlacklist: [],
  minerWhitelist: [],
  // Go: retrieval-timeout 1m, max-concurrent-retrievals 1
  defaultMinerConfig: {
    retrievalTimeoutMs: 60_000,
    maxConcurrentRetrievals: 1,
    maxBytesPerSecond: 0,
    // Not in the Go node: a hanging provider held a retrieval for the whole retrieval-timeout.
    firstByteTimeoutMs: DEFAULT_FIRST_BYTE_TIMEOUT_MS,
    // Issue 16: no paid retrieval may cost more than 0.01 FIL unless the operator says so.
    maxRetrievalCost: 10_000_000_000_000_000n
  },
  minerConfigs: {},
  eventRecorderEndpointUrl: '',
  // Named in records, refusals, policy versions and heartbeats: the host's name tells instances
  // apart without configuration (Go used a fixed placeholder, which made every instance alike).
  instanceName: defaultInstanceName(),
  databaseUrl: '',
  adminListen: { host: '127.0.0.1', port: 8080 },
  adminToken: '',
  // The Go node had no global cap (only per provider). This one has one by default, as the
  // retriever's DEFAULT_MAX_CONCURRENT_RETRIEVALS; 0, set explicitly, removes it.
  maxConcurrentRetrievals: 16,
  retrievalProtocols: ['http', 'graphsync', 'bitswap'],
  // Go: FULLNODE_API_INFO defaults to the public Glif gateway.
  fullnodeApiInfo: 'wss://api.chain.love',
  // Public by design (the gateway is read-only); 8081 sits beside the admin API's 8080.
  gatewayListen: { host: '0.0.0.0', port: 8081 },
  // Readable lines on a terminal, JSON for log shippers (issue 18).
  logFormat: 'auto',
  // Admission control for misses (issue 13): the retriever's DEFAULT_MAX_QUEUED_RETRIEVALS,
  // DEFAULT_PEER_RETRIEVAL_RATE and DEFAULT_PEER_RETRIEVAL_BURST, where the figures are explained.
  retrievalQueueSize: 256,
  peerRetrievalRate: 10,
  peerRetrievalBurst: 100
}

export const DEFAULT_LISTEN_ADDRS = ['/ip4/0.0.0.0/tcp/6746', '/ip4/0.0.0.0/tcp/6747/ws']

export const CONFIG_FILE = 'config.yaml'
export const ADMIN_TOKEN_FILE = 'admin-token'

function defaultInstanceName(): string {
  try {
    return hostname() || 'autoretrieve'
  } catch {
    return 'autoretrieve'
  }
}
