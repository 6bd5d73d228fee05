/**
 * @autoretrieve/retriever: the miss path. Candidates from routing pass the policy, protocol
 * adapters (HTTP trustless CAR, Bitswap; Graphsync plugs in the same way) race, and every
 * verified block lands in the cache while the retrieval goes on.
 */
export { createBitswapAdapter } from './adapters/bitswap.ts'
export { createGraphsyncAdapter } from './adapters/graphsync.ts'
export { CAR_ACCEPT, createHttpAdapter } from './adapters/http.ts'
export {
  createRetriever,
  type RetrieveOptions,
  type Retriever,
  type RetrieverComponents,
  type RetrieverEvents,
  type RetrieverInit
} from './engine.ts'
export { AttemptError, RetrievalFailedError } from './errors.ts'
export { KeyedLimiter } from './limiter.ts'
export type * from './types.ts'
export { DagVerifier } from './verifier.ts'
