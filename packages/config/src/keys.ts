import { formatFil } from '@autoretrieve/chain'
import type { z } from 'zod'
import { DEFAULT_LISTEN_ADDRS, DEFAULTS } from './constants.ts'
import type { AutoretrieveConfig } from './types.ts'
import { formatByteSize, formatDuration } from './units.ts'
import * as v from './values.ts'

type Field = Exclude<keyof AutoretrieveConfig, 'dataDir' | 'defaultMinerConfig' | 'minerConfigs' | 'fullnodeApiInfo'>

export interface KeySpec {
  key: string
  /** Other names the Go autoretrieve (code or README) used for the same setting. */
  aliases?: string[]
  field: Field
  schema: z.ZodType
  doc: string
  secret?: boolean
  /** The value as written in YAML (durations and sizes as text). */
  toYaml?: (value: never) => unknown
}

/** Every top-level key of config.yaml, in the order gen-config writes them. */
export const KEYS: KeySpec[] = [
  {
    key: 'advertise-endpoint-url',
    aliases: ['estuary-url'],
    field: 'advertiseEndpointUrl',
    schema: v.url,
    doc: 'Estuary API base URL (or its /autoretrieve/heartbeat URL); empty disables the heartbeat'
  },
  {
    key: 'advertise-endpoint-token',
    aliases: ['advertise-token'],
    field: 'advertiseEndpointToken',
    schema: v.text,
    doc: 'bearer token for the heartbeat',
    secret: true
  },
  {
    key: 'heartbeat-interval',
    field: 'heartbeatIntervalMs',
    schema: v.duration,
    doc: 'retry delay after a failed heartbeat (register-estuary sets it to Estuary’s advertise interval)',
    toYaml: formatDuration as never
  },
  {
    key: 'lookup-endpoint-type',
    field: 'lookupEndpointType',
    schema: v.oneOf(['indexer', 'estuary']),
    doc: 'indexer (IPNI) or estuary (retrieval candidates)'
  },
  { key: 'lookup-endpoint-url', field: 'lookupEndpointUrl', schema: v.url, doc: 'where candidates are looked up' },
  {
    key: 'max-bitswap-workers',
    field: 'maxBitswapWorkers',
    schema: v.count,
    doc: 'concurrent Bitswap sends (1 means the built-in default)'
  },
  {
    key: 'routing-table-type',
    field: 'routingTableType',
    schema: v.oneOf(['dht', 'full', 'disabled'], { fullrt: 'full' }),
    doc: 'dht, full (runs the DHT client in JS) or disabled'
  },
  {
    key: 'prune-threshold',
    field: 'pruneThresholdBytes',
    schema: v.byteSize,
    doc: 'prune the cache above this size (1GiB, 1 GB, bytes); 0 = never',
    toYaml: formatByteSize as never
  },
  {
    key: 'pin-duration',
    field: 'pinDurationMs',
    schema: v.duration,
    doc: 'blocks used within this are never pruned',
    toYaml: formatDuration as never
  },
  {
    key: 'log-resource-manager',
    field: 'logResourceManager',
    schema: v.bool,
    doc: 'log libp2p resource usage every 10 s'
  },
  { key: 'log-retrieval-stats', field: 'logRetrievalStats', schema: v.bool, doc: 'log a line per finished retrieval' },
  { key: 'disable-retrieval', field: 'disableRetrieval', schema: v.bool, doc: 'serve only what is cached' },
  {
    key: 'paid-retrievals',
    field: 'paidRetrievals',
    schema: v.bool,
    doc: 'pay providers that charge, from the wallet in <data-dir>/wallet through Lotus (FULLNODE_API_INFO)'
  },
  {
    key: 'max-spend-per-day',
    field: 'maxSpendPerDay',
    schema: v.cap,
    doc: 'most this node pays in one UTC day (attoFIL or "0.1 FIL"; none = no cap)',
    toYaml: capYaml as never
  },
  {
    key: 'paych-min-available',
    field: 'paychMinAvailable',
    schema: v.amount,
    doc: 'reuse a payment channel with at least this much left, else add funds',
    toYaml: formatFil as never
  },
  {
    key: 'paych-fund-amount',
    field: 'paychFundAmount',
    schema: v.amount,
    doc: 'a new payment channel gets this much, and so does one that runs low (more when a retrieval needs it)',
    toYaml: formatFil as never
  },
  {
    key: 'cid-blacklist',
    field: 'cidBlacklist',
    schema: v.list(v.cid),
    doc: 'CIDs never served or retrieved (matched by multihash)'
  },
  {
    key: 'miner-blacklist',
    field: 'minerBlacklist',
    schema: v.list(v.provider),
    doc: 'providers never contacted (peer IDs or f0… addresses)'
  },
  {
    key: 'miner-whitelist',
    field: 'minerWhitelist',
    schema: v.list(v.provider),
    doc: 'if not empty, only these providers are contacted'
  },
  {
    key: 'event-recorder-endpoint-url',
    field: 'eventRecorderEndpointUrl',
    schema: v.url,
    doc: 'POST retrieval events here (empty: off)'
  },
  { key: 'instance-name', field: 'instanceName', schema: v.text, doc: 'this node’s name in events and heartbeats' },
  {
    key: 'database-url',
    field: 'databaseUrl',
    schema: v.text,
    doc: 'PostgreSQL URL; empty = embedded database in <data-dir>/db',
    secret: true
  },
  {
    key: 'admin-listen',
    field: 'adminListen',
    schema: v.hostPort,
    doc: 'admin HTTP API (keep it on loopback or behind a proxy)',
    toYaml: ((a: { host: string; port: number }) =>
      `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`) as never
  },
  {
    key: 'admin-token',
    field: 'adminToken',
    schema: v.text,
    doc: 'admin API bearer token; empty = generated into <data-dir>/admin-token',
    secret: true
  },
  { key: 'listen-addrs', field: 'listenAddrs', schema: v.list(v.multiaddrText), doc: 'libp2p listen addresses' },
  {
    key: 'max-concurrent-retrievals',
    field: 'maxConcurrentRetrievals',
    schema: v.count,
    doc: 'retrievals at once across all providers; 0 = unlimited (only when set)'
  },
  {
    key: 'retrieval-protocols',
    field: 'retrievalProtocols',
    schema: v.protocols,
    doc: 'any of http, graphsync, bitswap'
  },
  // trustless gateway
  {
    key: 'gateway-listen',
    field: 'gatewayListen',
    schema: v.optionalHostPort,
    doc: 'public trustless HTTP gateway (/ipfs/{cid}, read-only, no token); empty turns it off',
    toYaml: ((a: { host: string; port: number } | null) =>
      a === null ? '' : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`) as never
  },
  {
    key: 'log-format',
    field: 'logFormat',
    schema: v.oneOf(['auto', 'pretty', 'json']),
    doc: 'auto (readable on a terminal, JSON otherwise), pretty or json'
  },
  // Admission control for misses (issue 13).
  {
    key: 'retrieval-queue-size',
    field: 'retrievalQueueSize',
    schema: v.count,
    doc: 'retrievals that wait for max-concurrent-retrievals; past it a want is refused (overloaded)'
  },
  {
    key: 'peer-retrieval-rate',
    field: 'peerRetrievalRate',
    schema: v.count,
    doc: 'new retrievals per second one peer may start after its burst; past it DONT_HAVE rate_limited; 0 = unlimited'
  },
  {
    key: 'peer-retrieval-burst',
    field: 'peerRetrievalBurst',
    schema: v.count.refine((n: number) => n >= 1, 'must be at least 1'),
    doc: 'new retrievals one peer may start at once'
  }
]

export const MINER_KEYS = [
  {
    key: 'retrieval-timeout',
    field: 'retrievalTimeoutMs',
    schema: v.duration,
    doc: 'no new verified bytes for this long: give up on the provider'
  },
  {
    key: 'max-concurrent-retrievals',
    field: 'maxConcurrentRetrievals',
    schema: v.count,
    doc: 'retrievals at once from one provider; 0 = unlimited'
  },
  {
    key: 'max-bytes-per-second',
    field: 'maxBytesPerSecond',
    schema: v.byteSize,
    doc: 'cap on one provider’s throughput; 0 = unlimited'
  },
  {
    key: 'first-byte-timeout',
    field: 'firstByteTimeoutMs',
    schema: v.duration,
    doc: 'no connection and first verified block this long after an attempt starts: try the next provider; 0 = none'
  },
  {
    key: 'max-price-per-byte',
    field: 'maxPricePerByte',
    schema: v.cap,
    doc: 'pass over a provider asking more per byte (attoFIL; none = no cap)'
  },
  {
    key: 'max-unseal-price',
    field: 'maxUnsealPrice',
    schema: v.cap,
    doc: 'pass over a provider asking more to unseal (attoFIL or "0.001 FIL"; none = no cap)'
  },
  {
    key: 'max-retrieval-cost',
    field: 'maxRetrievalCost',
    schema: v.cap,
    doc: 'pass over a provider whose size × price + unseal price is more (attoFIL or "0.01 FIL"; none = no cap)'
  }
] as const

/** The price caps: miner-config keys that may also stand at the top level, for every provider (default-miner-config's). */
export const CAP_KEYS = ['max-price-per-byte', 'max-unseal-price', 'max-retrieval-cost'] as const

/** A cap as config.yaml writes it: "0.01 FIL", or none. */
export function capYaml(value: bigint | undefined): string {
  return value === undefined ? 'none' : formatFil(value)
}

export const SECTION_KEYS = ['default-miner-config', 'miner-configs'] as const

/** Every name accepted at the top level, for the unknown-key check and its suggestions. */
export const TOP_LEVEL_NAMES = [...KEYS.flatMap((k) => [k.key, ...(k.aliases ?? [])]), ...CAP_KEYS, ...SECTION_KEYS]

/** Top-level names the loader accepts: the current ones and every Go release's. */
export const ACCEPTED_NAMES = (): string[] => [...TOP_LEVEL_NAMES, ...LEGACY_KEYS.map((k) => k.key)]

export function defaults(dataDir: string): AutoretrieveConfig {
  return { ...structuredClone(DEFAULTS), listenAddrs: [...DEFAULT_LISTEN_ADDRS], dataDir }
}

/**
 * Keys that earlier Go autoretrieve releases read and the last one no longer does (from the
 * history of its config.go). Each loads: one that maps cleanly onto a current key (`sameAs`, with
 * `convert` when the value changed shape) takes effect unless the current key is also set; the
 * others have no effect here and log one warning naming them (`why`).
 */
export interface LegacyKeySpec {
  key: string
  /** The current key that now holds the same setting. */
  sameAs?: string
  /** The old value in the current key's form. */
  convert?: (value: unknown) => unknown
  /** Why it has no effect, for the warning (keys without `sameAs`). */
  why?: string
}

export const LEGACY_KEYS: LegacyKeySpec[] = [
  // Apr–Jun 2022 (be683bd…ce941f6): the candidate lookup before it was renamed lookup-*.
  { key: 'endpoint-type', sameAs: 'lookup-endpoint-type' },
  { key: 'endpoint-url', sameAs: 'lookup-endpoint-url' },
  // Apr–Jun 2022: replaced by routing-table-type (4593a54); true meant the full-routing-table DHT client.
  {
    key: 'use-fullrt',
    sameAs: 'routing-table-type',
    convert: (v) => (v === true || v === 'true' ? 'full' : v === false || v === 'false' ? 'dht' : v)
  },
  {
    key: 'data-dir',
    why: 'the data dir is the directory holding this config.yaml (--data-dir or AUTORETRIEVE_DATA_DIR)'
  },
  {
    key: 'advertise-interval',
    why: 'the heartbeat follows the advertiseInterval Estuary answers; heartbeat-interval is the retry delay'
  },
  {
    key: 'event-recorder-endpoint-authorization',
    why: 'the event recorder credential is read from <data-dir>/eventrecorderauth, as the later Go releases did'
  },
  // Jan 2023 (f432110, reverted by c0de64f a week later): worker pools of the rewritten Bitswap provider.
  { key: 'request-workers', why: 'Bitswap work is bounded by max-bitswap-workers and the per-peer limits' },
  { key: 'response-workers', why: 'Bitswap work is bounded by max-bitswap-workers and the per-peer limits' },
  { key: 'retrieval-workers', why: 'retrievals are bounded by max-concurrent-retrievals' }
]

/** A key that loaded but does not do here what it did in the Go node. */
export interface ConfigWarning {
  key: string
  file?: string
  line?: number
  message: string
}
