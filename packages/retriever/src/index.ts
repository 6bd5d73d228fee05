/**
 * @autoretrieve/retriever: the miss path. `createRetriever` returns a `Retriever` that fetches a
 * DAG from Filecoin storage providers into the block cache. Candidates come from routing (or the
 * operator, for `fetch --provider`), pass the policy (deny/allow lists, enabled protocols) and are
 * ordered by what past attempts taught about each provider; the protocol adapters (HTTP trustless
 * CAR, Bitswap, Graphsync with data-transfer) race, the first to deliver a verified block winning.
 * Every block is checked against its CID and the DAG walk and lands in the cache while the
 * retrieval goes on; one retrieval per root is shared by every want for it or for a block under it.
 * Graphsync candidates are queried for their terms first; with paid retrievals on (and a
 * `payments` component) a priced one within the caps is proposed to at its prices and paid
 * through a payment channel lane as verified bytes arrive, never ahead of them.
 */
export { createBitswapAdapter } from './adapters/bitswap.ts'
export { createGraphsyncAdapter } from './adapters/graphsync.ts'
export { CAR_ACCEPT, createHttpAdapter } from './adapters/http.ts'
export { AttemptError, QueueFullError, RetrievalFailedError } from './errors.ts'
export { createRateLimiter, type RateLimiter, type RateLimiterInit } from './rate-limiter.ts'
export { createRetriever } from './retriever.ts'
export type * from './types.ts'
