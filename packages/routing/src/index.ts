/**
 * @autoretrieve/routing: where a CID can be retrieved from. IPNI find (JSON and NDJSON), Delegated
 * Routing V1, Estuary retrieval candidates (miners resolved through Lotus StateMinerInfo), IPNI
 * metadata decoding and HTTP multiaddrs as URLs.
 */
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
  MinerResolutionError
} from './errors.ts'
export { createEstuarySource, type EstuarySourceInit } from './estuary.ts'
export { createIpniSource, type IpniSourceInit } from './ipni.ts'
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
