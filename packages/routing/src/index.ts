/**
 * @autoretrieve/routing: where a CID can be retrieved from. IPNI find (JSON and NDJSON),
 * Delegated Routing V1, Estuary retrieval candidates, IPNI metadata decoding, and Lotus
 * StateMinerInfo for providers named by miner address.
 */
export { createDelegatedRoutingSource } from './delegated.ts'
export { IndexerResponseError, IndexerUnavailableError, MinerResolutionError } from './errors.ts'
export { createEstuarySource } from './estuary.ts'
export { candidateFromResult, createIpniSource, type IpniSourceInit } from './ipni.ts'
export { createLotusMinerResolver, isMinerAddress, parseApiInfo } from './lotus.ts'
export {
  decodeMetadata,
  type MetadataEntry,
  TRANSPORT_BITSWAP,
  TRANSPORT_GRAPHSYNC,
  TRANSPORT_HTTP
} from './metadata.ts'
export { multiaddrToHttpUrl } from './multiaddr-url.ts'
export type * from './types.ts'
