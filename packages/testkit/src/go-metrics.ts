/**
 * The Go autoretrieve's 36 metric names as its /metrics exposed them (specs/estuary-autoretrieve.md
 * §7, namespace `autoretrieve_`): OpenCensus count and sum views became counters, distributions
 * histograms with these bounds (none: the single +Inf bucket). Tests check the node against it.
 */
export interface GoMetric {
  name: string
  type: 'counter' | 'histogram'
  /** A histogram's bucket bounds in the Go view; [] for `view.Distribution()` without bounds. */
  buckets?: number[]
}

const PER_REQUEST = [0, 1, 2, 3, 4, 5, 10, 20, 40]
const counter = (name: string): GoMetric => ({ name, type: 'counter' })
const histogram = (name: string, buckets: number[]): GoMetric => ({ name, type: 'histogram', buckets })

export const GO_METRICS: readonly GoMetric[] = Object.freeze([
  counter('bitswap_request_total'),
  counter('bitswap_response_total'),
  counter('bitswap_retriever_request_total'),
  counter('blockstore_cache_hit_total'),
  counter('data_transferred_bytes_total'),
  histogram('retrieval_deal_cost_fil', []),
  counter('retrieval_deal_active_total'),
  histogram('retrieval_deal_duration_seconds', [0, 10, 20, 30, 40, 50, 60, 120, 240, 480, 540, 600]),
  counter('retrieval_deal_fail_total'),
  histogram('retrieval_deal_size_bytes', []),
  counter('retrieval_deal_success_total'),
  counter('retrieval_request_total'),
  counter('retrieval_error_paych_total'),
  counter('retrieval_error_rejected_total'),
  counter('retrieval_error_toomany_total'),
  counter('retrieval_error_acl_total'),
  counter('retrieval_error_maintenance_total'),
  counter('retrieval_error_noonline_total'),
  counter('retrieval_error_unconfirmed_total'),
  counter('retrieval_error_timeout_total'),
  counter('retrieval_error_other_total'),
  counter('query_error_failed_to_dial'),
  counter('query_error_failed_to_open_stream'),
  counter('query_error_response_eof'),
  counter('query_error_response_stream_reset'),
  counter('query_error_dagstore'),
  counter('query_error_dealstate'),
  counter('query_error_error_other_total'),
  histogram('indexer_candidates_per_request_total', PER_REQUEST),
  counter('request_with_indexer_candidates_total'),
  counter('request_with_indexer_candidates_filtered_total'),
  counter('request_with_successful_queries_total'),
  counter('request_with_successful_queries_filtered_total'),
  histogram('successful_queries_per_request_total', PER_REQUEST),
  histogram('successful_queries_per_request_filtered_total', PER_REQUEST),
  histogram('failed_retrievals_per_request_total', PER_REQUEST)
])
