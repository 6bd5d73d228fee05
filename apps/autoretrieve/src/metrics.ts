import { performance } from 'node:perf_hooks'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/**
 * The node's Prometheus metrics. Names keep the Go autoretrieve's (namespace `autoretrieve_`,
 * specs/estuary-autoretrieve.md §7) so existing dashboards work; `retrieval_deal_active` is a
 * gauge here (Go counted starts and ends alike). Labels come from small fixed sets only.
 */
export function createNodeMetrics(sources: { cache: () => { blocks: number; bytes: number }; peers: () => number }) {
  const registry = new Registry()
  const p = 'autoretrieve_'
  collectDefaultMetrics({ register: registry, prefix: p })
  const opts = <T extends string>(name: string, help: string, labelNames: T[] = []) => ({
    name: p + name,
    help,
    labelNames,
    registers: [registry]
  })
  const bitswapRequest = new Counter(opts('bitswap_request_total', 'wantlist entries received (not cancels)'))
  const bitswapResponse = new Counter(
    opts('bitswap_response_total', 'responses queued', ['bitswap_topic', 'bitswap_dont_have_reason'])
  )
  const retrieverRequest = new Counter(
    opts('bitswap_retriever_request_total', 'wants that started or joined a retrieval (cache misses)')
  )
  const cacheHit = new Counter(opts('blockstore_cache_hit_total', 'wants answered from the cache'))
  const retrievalRequest = new Counter(
    opts('retrieval_request_total', 'retrieval attempts started, per provider attempt', ['protocol'])
  )
  const success = new Counter(opts('retrieval_deal_success_total', 'successful retrievals'))
  const fail = new Counter(opts('retrieval_deal_fail_total', 'failed attempts', ['protocol']))
  const protocolSuccess = new Counter(
    opts('retrieval_protocol_success_total', 'successful attempts by protocol', ['protocol'])
  )
  const active = new Gauge(opts('retrieval_deal_active', 'attempts running now'))
  const duration = new Histogram({
    ...opts('retrieval_deal_duration_seconds', 'duration of successful attempts'),
    buckets: [0, 10, 20, 30, 40, 50, 60, 120, 240, 480, 540, 600]
  })
  const size = new Histogram({
    ...opts('retrieval_deal_size_bytes', 'bytes of successful attempts'),
    buckets: [1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]
  })
  const ttfb = new Histogram({
    ...opts('retrieval_ttfb_seconds', 'time to first verified block of an attempt', ['protocol']),
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  })
  const errors = new Counter(opts('retrieval_error_total', 'failed attempts by error class', ['error_class']))
  const timeoutErrors = new Counter(opts('retrieval_error_timeout_total', 'attempts that timed out (Go name)'))
  const otherErrors = new Counter(opts('retrieval_error_other_total', 'attempts that failed otherwise (Go name)'))
  const candidates = new Histogram({
    ...opts('indexer_candidates_per_request_total', 'candidates per lookup'),
    buckets: [0, 1, 2, 3, 4, 5, 10, 20, 40]
  })
  const withCandidates = new Counter(opts('request_with_indexer_candidates_total', 'lookups with candidates'))
  const withFiltered = new Counter(
    opts('request_with_indexer_candidates_filtered_total', 'lookups with candidates left after policy')
  )
  const bytesIn = new Counter(opts('retrieved_bytes_total', 'verified bytes retrieved', ['protocol']))
  const bytesOut = new Counter(opts('bitswap_sent_bytes_total', 'bytes sent to Bitswap peers'))
  new Gauge({
    ...opts('cache_bytes', 'bytes in the block cache'),
    collect() {
      this.set(sources.cache().bytes)
    }
  })
  new Gauge({
    ...opts('cache_blocks', 'blocks in the block cache'),
    collect() {
      this.set(sources.cache().blocks)
    }
  })
  new Gauge({
    ...opts('connected_peers', 'libp2p peers connected'),
    collect() {
      this.set(sources.peers())
    }
  })
  let elu = performance.eventLoopUtilization()
  new Gauge({
    ...opts('event_loop_utilization', 'share of time the event loop was busy since the last scrape'),
    collect() {
      const next = performance.eventLoopUtilization()
      this.set(performance.eventLoopUtilization(next, elu).utilization)
      elu = next
    }
  })

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    bitswap: {
      onWant: () => bitswapRequest.inc(),
      onResponse: (topic: string, reason?: string) =>
        bitswapResponse.inc({ bitswap_topic: topic, bitswap_dont_have_reason: reason ?? '' }),
      onHit: () => cacheHit.inc(),
      onMiss: () => retrieverRequest.inc(),
      onBytesSent: (n: number) => bytesOut.inc(n)
    },
    retriever: {
      onCandidates(found: number, accepted: number) {
        candidates.observe(found)
        if (found > 0) withCandidates.inc()
        if (accepted > 0) withFiltered.inc()
      },
      onAttemptStarted(protocol: string) {
        retrievalRequest.inc({ protocol })
        active.inc()
      },
      onAttemptEnded(
        protocol: string,
        outcome: string,
        info: { bytes: number; durationMs: number; ttfbMs?: number; errorClass?: string }
      ) {
        active.dec()
        if (info.ttfbMs !== undefined) ttfb.observe({ protocol }, info.ttfbMs / 1000)
        if (outcome === 'success') {
          protocolSuccess.inc({ protocol })
          duration.observe(info.durationMs / 1000)
          size.observe(info.bytes)
        } else if (outcome === 'failed') {
          fail.inc({ protocol })
          errors.inc({ error_class: info.errorClass ?? 'other' })
          if (info.errorClass === 'timeout') timeoutErrors.inc()
          else otherErrors.inc()
        }
      },
      onRetrievalEnded(ok: boolean) {
        if (ok) success.inc()
      },
      onBytes: (protocol: string, n: number) => bytesIn.inc({ protocol }, n)
    }
  }
}
