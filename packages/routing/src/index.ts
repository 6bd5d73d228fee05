/**
 * @autoretrieve/routing: where a CID can be retrieved from, as a `CandidateSource` of candidates
 * (a provider's peer ID, addresses, HTTP URLs and protocols). The node uses IPNI find
 * (`createIpniSource`: JSON or streamed NDJSON, the 0x0900/0x0910/0x0920 metadata decoded, one
 * candidate per provider, our own peer left out) or, with `lookup-endpoint-type: estuary`,
 * Estuary's retrieval candidates (`createEstuarySource`), whose miner addresses resolve to peers
 * through Lotus StateMinerInfo (`createLotusMinerResolver`, answers cached with lru-cache). A
 * Delegated Routing V1 source is here too, though the node does not wire it today. Lookups are
 * bounded in time and size and fail with typed errors.
 */
export {
  createMinerAddressBook,
  type MinerAddressBook,
  type MinerAddressBookInit,
  type MinerAddressBookStats,
  type MinerLookup
} from './address-book.ts'
export { type LotusEndpoint, parseApiInfo } from './api-info.ts'
export { candidateFromRecord, candidateFromResult } from './candidates.ts'
export {
  DEFAULT_FULLNODE_API_INFO,
  DEFAULT_LOOKUP_TIMEOUT_MS,
  DEFAULT_MINER_CACHE_TTL_MS,
  DEFAULT_MINER_FAILURE_TTL_MS
} from './constants.ts'
export { createDelegatedRoutingSource, type DelegatedRoutingSourceInit } from './delegated.ts'
export {
  IndexerResponseError,
  IndexerTimeoutError,
  IndexerUnavailableError,
  InvalidApiInfoError,
  LookupQueueFullError,
  MinerResolutionError
} from './errors.ts'
export { createEstuarySource, type EstuarySourceInit } from './estuary.ts'
export { createIpniSource, type IpniSourceInit } from './ipni.ts'
export { createLookupGuard, type GuardedSource, type LookupGuardInit, type LookupGuardStats } from './lookup-guard.ts'
export { createLotusMinerResolver, isMinerAddress, type LotusMinerResolverInit } from './lotus.ts'
export {
  decodeMetadata,
  type MetadataEntry,
  TRANSPORT_BITSWAP,
  TRANSPORT_GRAPHSYNC,
  TRANSPORT_HTTP,
  TRANSPORT_PIECE_HTTP
} from './metadata.ts'
export { multiaddrToHttpUrl } from './multiaddr-url.ts'
export type * from './types.ts'
