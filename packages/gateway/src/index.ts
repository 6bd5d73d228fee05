/**
 * @autoretrieve/gateway: the public, read-only trustless HTTP gateway (shared/specs/
 * trustless-gateway.md). `createGateway` answers `GET`/`HEAD /ipfs/{cid}[/{path}]` with raw blocks
 * or CARv1 streams (dag-scope, entity-bytes, dups, DFS order; paths through UnixFS directories
 * and HAMT shards) from the block cache; a miss starts or joins the shared retrieval, and the CAR
 * streams as verified blocks land. Denied CIDs are 410; every request becomes a record (protocol
 * `http-gateway`). `listenGateway` binds it with node:http (only the app's entry point calls it).
 */
export { BlockUnavailableError, DeniedError, GatewayError, RateLimitedError } from './errors.ts'
export { createGateway, type Gateway } from './handler.ts'
export { GatewayListenError, type GatewayServer, listenGateway } from './server.ts'
export type * from './types.ts'
