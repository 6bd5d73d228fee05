/**
 * @autoretrieve/metrics: the node's Prometheus metrics. `createMetrics(sources)` builds a registry
 * with the Go autoretrieve's metric names (namespace `autoretrieve_`), gauges read from `sources`
 * at scrape time, and event handlers the Bitswap server, the retriever and the Estuary heartbeat
 * call; `render()` is the text exposition the admin plane serves at /metrics.
 */
export {
  type BitswapMetrics,
  createMetrics,
  type HeartbeatMetrics,
  type Metrics,
  type MetricsSources,
  type RetrievalRecordMetrics,
  type RetrieverMetrics
} from './metrics.ts'
