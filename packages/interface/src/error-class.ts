/**
 * Why a retrieval, or one attempt of it against one provider, failed: a stable code stored in the
 * retrieval records (`error_class`), shown by explain and the API, and used as the `error_class`
 * label of `autoretrieve_retrieval_errors_total`. Documented in docs/INTERFACE.md; a test keeps
 * the two lists equal.
 */
export const ERROR_CLASSES = Object.freeze([
  // the retrieval as a whole
  'no_candidates', // the indexer named no provider
  'all_filtered', // every provider named was excluded by policy (deny/allow lists, protocols)
  'retrieval_failed', // every candidate failed (each attempt keeps its own class)
  'timeout', // no verified bytes for `retrieval-timeout`, or every attempt timed out
  // the retrieval as a whole: the indexer and the node's own admission limits
  'indexer_failed', // the indexer could not be asked: unreachable, 5xx, a broken answer, no answer in time
  'rate_limited', // the requester was past its rate of new retrievals; nothing was started
  'overloaded', // the node was at its cap on retrievals (or indexer lookups) and its queue was full
  // one attempt
  'connect_failed', // could not dial or reach the provider
  'http_status', // an HTTP provider answered with a non-2xx status
  'bad_response', // the answer was not a CAR (content type, header)
  'bad_block', // a block that does not decode or whose hash function we cannot check
  'wrong_block', // bytes that do not hash to the CID they came under
  'unexpected_block', // a block the DAG walk did not ask for
  'incomplete', // the provider stopped before the DAG was whole
  'dont_have', // a Bitswap provider said DONT_HAVE
  'not_found', // a Graphsync provider answered status 34 (RequestFailedContentNotFound)
  // a Filecoin provider's refusal, by its own words (packages/filecoin classify)
  'rejected',
  'too_many_deals',
  'under_maintenance',
  'access_control',
  // an ingest limit broken (packages/interface/src/limits.ts): refused before it was buffered
  'block_too_large', // a block (or CAR section) whose length is over MAX_BLOCK_BYTES (2 MiB)
  'header_too_large', // a CAR header whose length is over MAX_CAR_HEADER_BYTES (64 KiB)
  // the retrieval query phase (/fil/retrieval/qry/1.0.0, Graphsync candidates): passed over, no proposal sent
  'paid_not_allowed', // the ask has a price (per byte or unseal) and paid-retrievals is off
  'query_failed', // no usable answer (dial, stream, timeout, size cap, malformed), or the provider answered Error
  'query_unavailable', // the provider answered Unavailable: no piece holds the payload
  // paid retrievals (Graphsync with payment channels)
  'price_too_high', // the ask is over a cap (max-price-per-byte, max-unseal-price, max-retrieval-cost) or over what is left of max-spend-per-day
  'paych', // no payment channel or lane could be had, or no voucher signed (wallet, Lotus, funds)
  'overcharged', // the provider demanded more than verified bytes × price + unseal, or more than it proposed
  'other' // anything else; the message says what
] as const)

export type ErrorClass = (typeof ERROR_CLASSES)[number]

export function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'string' && (ERROR_CLASSES as readonly string[]).includes(value)
}
