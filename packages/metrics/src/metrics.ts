import { performance } from 'node:perf_hooks'
import type { HeartbeatStatus } from '@autoretrieve/estuary'
import type { TransportProtocol } from '@autoretrieve/routing'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** The `protocol` label's values: every transport the retriever knows (routing's `TransportProtocol`). */
const PROTOCOLS = ['bitswap', 'graphsync', 'http'] as const satisfies readonly TransportProtocol[]
/** The `state` label's values: the heartbeat's states (admin's `HeartbeatStatus`). */
const HEARTBEAT_STATES = [
  'disabled',
  'pending',
  'ok',
  'failing',
  'stopped'
] as const satisfies readonly HeartbeatStatus['state'][]

/** What the gauges read at scrape time: each is asked once per scrape, never on a hot path. */
export interface MetricsSources {
  cache: () => { blocks: number; bytes: number; diskBytes: number }
  /** The cache's prune threshold; 0 means it is never pruned. */
  pruneThresholdBytes: number
  peers: () => number
  records: () => { buffered: number; written: number; dropped: number }
  heartbeat: () => Pick<HeartbeatStatus, 'state' | 'lastSuccessAt'>
}

/** The Bitswap server's events (structurally its `events` component). */
export interface BitswapMetrics {
  onWant(wantType: 'block' | 'have'): void
  onResponse(topic: string, reason?: string): void
  onHit(): void
  onMiss(): void
  onBytesSent(bytes: number): void
}

/** The retriever's events (structurally its `events` component). */
export interface RetrieverMetrics {
  onCandidates(found: number, accepted: number): void
  onAttemptStarted(protocol: string): void
  onAttemptEnded(
    protocol: string,
    outcome: string,
    info: { bytes: number; durationMs: number; ttfbMs?: number; errorClass?: string }
  ): void
  onRetrievalEnded(ok: boolean, reason?: string): void
  onBytes(protocol: string, bytes: number): void
  /** A requester was refused a new retrieval (counted as reason `rate_limited`). */
  onRateLimited(): void
}

/** The Estuary heartbeat's events. */
export interface HeartbeatMetrics {
  onBeat(ok: boolean): void
}

export interface Metrics {
  /** The exposition's Content-Type, for the /metrics answer. */
  readonly contentType: string
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>
  readonly bitswap: BitswapMetrics
  readonly retriever: RetrieverMetrics
  readonly heartbeat: HeartbeatMetrics
}

/**
 * The node's Prometheus metrics. Names keep the Go autoretrieve's (namespace `autoretrieve_`,
 * specs/estuary-autoretrieve.md §7) so existing dashboards work; `retrieval_deal_active` is a
 * gauge here (Go counted starts and ends alike). Labels come from small fixed sets only, and
 * every labelled series is created at 0 so a rate exists before the first event.
 * `docker/grafana/autoretrieve-dashboard.json` reads these names (a test keeps the two in step).
 */
export function createMetrics(sources: MetricsSources): Metrics {
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
  const bitswapWants = new Counter(
    opts('bitswap_wants_total', 'wantlist entries received (not cancels) by want type', ['want_type'])
  )
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
  // Whole retrievals that failed, by why (issue 13: an indexer outage is not "nobody has it").
  const retrievalFailures = new Counter(
    opts('retrieval_failure_total', 'failed retrievals, and refused ones, by reason (error class)', ['reason'])
  )
  for (const reason of ['no_candidates', 'indexer_failed', 'rate_limited', 'overloaded'])
    retrievalFailures.inc({ reason }, 0)
  const bytesIn = new Counter(opts('retrieved_bytes_total', 'verified bytes retrieved', ['protocol']))
  const bytesOut = new Counter(opts('sent_bytes_total', 'bytes served to peers (Bitswap messages)', ['protocol']))
  for (const want_type of ['block', 'have']) bitswapWants.inc({ want_type }, 0)
  bytesOut.inc({ protocol: 'bitswap' }, 0)
  for (const protocol of PROTOCOLS) {
    for (const counter of [retrievalRequest, fail, protocolSuccess, bytesIn]) counter.inc({ protocol }, 0)
    ttfb.zero({ protocol })
  }
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
    ...opts('cache_disk_bytes', 'bytes of the block log on disk: blocks, record headers, space not yet reclaimed'),
    collect() {
      this.set(sources.cache().diskBytes)
    }
  })
  new Gauge({
    ...opts('cache_prune_threshold_bytes', 'block log size on disk above which the cache is pruned (0 = never)'),
    collect() {
      this.set(sources.pruneThresholdBytes)
    }
  })
  new Gauge({
    ...opts('connected_peers', 'libp2p peers connected'),
    collect() {
      this.set(sources.peers())
    }
  })
  new Gauge({
    ...opts('records_buffered', 'retrieval records waiting to be written to the database'),
    collect() {
      this.set(sources.records().buffered)
    }
  })
  const written = follow(() => sources.records().written)
  new Counter({
    ...opts('records_written_total', 'retrieval records written to the database'),
    collect() {
      this.inc(written())
    }
  })
  const dropped = follow(() => sources.records().dropped)
  new Counter({
    ...opts('records_dropped_total', 'retrieval records dropped because the buffer was full'),
    collect() {
      this.inc(dropped())
    }
  })
  const beats = new Counter(opts('heartbeat_total', 'Estuary heartbeats sent, by outcome', ['outcome']))
  for (const outcome of ['success', 'failure']) beats.inc({ outcome }, 0)
  new Gauge({
    ...opts('heartbeat_state', 'the Estuary heartbeat state: 1 for the current one', ['state']),
    collect() {
      const now = sources.heartbeat().state
      for (const state of HEARTBEAT_STATES) this.set({ state }, state === now ? 1 : 0)
    }
  })
  new Gauge({
    ...opts('heartbeat_last_success_timestamp_seconds', 'when Estuary last accepted a heartbeat (0 = never)'),
    collect() {
      const at = sources.heartbeat().lastSuccessAt
      this.set(at === null ? 0 : Date.parse(at) / 1000)
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
    contentType: registry.contentType,
    render: () => registry.metrics(),
    bitswap: {
      onWant(wantType: 'block' | 'have') {
        bitswapRequest.inc()
        bitswapWants.inc({ want_type: wantType })
      },
      onResponse: (topic: string, reason?: string) =>
        bitswapResponse.inc({ bitswap_topic: topic, bitswap_dont_have_reason: reason ?? '' }),
      onHit: () => cacheHit.inc(),
      onMiss: () => retrieverRequest.inc(),
      onBytesSent: (bytes: number) => bytesOut.inc({ protocol: 'bitswap' }, bytes)
    },
    heartbeat: {
      onBeat: (ok: boolean) => beats.inc({ outcome: ok ? 'success' : 'failure' })
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
      onRetrievalEnded(ok: boolean, reason?: string) {
        if (ok) success.inc()
        else retrievalFailures.inc({ reason: reason ?? 'other' })
      },
      onRateLimited: () => retrievalFailures.inc({ reason: 'rate_limited' }),
      onBytes: (protocol: string, bytes: number) => bytesIn.inc({ protocol }, bytes)
    }
  }
}

/** The growth since the last call of a running total kept elsewhere, for a counter read at scrape time. */
function follow(read: () => number): () => number {
  let seen = 0
  return () => {
    const now = read()
    const delta = Math.max(0, now - seen)
    seen = Math.max(seen, now)
    return delta
  }
}
