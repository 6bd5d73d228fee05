import { performance } from 'node:perf_hooks'
import type { HeartbeatStatus } from '@autoretrieve/estuary'
import type { RetrievalRecord } from '@autoretrieve/interface'
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
  /** The event recorder's totals; undefined when none is configured. */
  eventRecorder?: () => { sent: number; dropped: number; queued: number } | undefined
  /** The miner address book's totals (f0 -> peer ID through Lotus); absent: reported as 0. */
  minerAddresses?: () => { resolved: number; failed: number; unresolved: number }
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
  /** A retrieval's query phase settled (Graphsync candidates, `/fil/retrieval/qry/1.0.0`). */
  onQueries(summary: { answered: number; accepted: number; failures: string[]; passedOver: string[] }): void
  /** A requester was refused a new retrieval (counted as reason `rate_limited`). */
  onRateLimited(): void
}

/** The retriever's records (its RecordSink), read for the Go node's per-retrieval series. */
export interface RetrievalRecordMetrics {
  onRecord(record: RetrievalRecord): void
}

/** The Estuary heartbeat's events. */
export interface HeartbeatMetrics {
  onBeat(ok: boolean): void
}

/** The trustless gateway's events (structurally its `events` component). */
export interface GatewayMetrics {
  onRequest(info: { format: string; status: number; ttfbMs: number; bytes: number; durationMs: number }): void
}

export interface Metrics {
  /** The exposition's Content-Type, for the /metrics answer. */
  readonly contentType: string
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>
  readonly bitswap: BitswapMetrics
  readonly retriever: RetrieverMetrics
  readonly heartbeat: HeartbeatMetrics
  readonly retrievals: RetrievalRecordMetrics
  readonly gateway: GatewayMetrics
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
  // Miner address resolution through Lotus: failures (Lotus unreachable or erring) and the
  // addresses still without a peer ID, which hold back providers known only by peer ID.
  const lookupsOk = follow(() => sources.minerAddresses?.().resolved ?? 0)
  const lookupsFailed = follow(() => sources.minerAddresses?.().failed ?? 0)
  new Counter({
    ...opts('lotus_miner_lookups_total', 'miner address lookups through Lotus StateMinerInfo, by outcome', ['outcome']),
    collect() {
      this.inc({ outcome: 'resolved' }, lookupsOk())
      this.inc({ outcome: 'failed' }, lookupsFailed())
    }
  })
  new Gauge({
    ...opts('miner_addresses_unresolved', 'miner addresses of the policy with no peer ID from Lotus yet'),
    collect() {
      this.set(sources.minerAddresses?.().unresolved ?? 0)
    }
  })
  // trustless gateway: format is raw, car or none (refused before a format was known); status is
  // the HTTP status code (a small set: 200, 304, 4xx, 5xx).
  const gatewayRequests = new Counter(
    opts('gateway_requests_total', 'trustless gateway requests answered, by format and status', ['format', 'status'])
  )
  const gatewayTtfb = new Histogram({
    ...opts('gateway_ttfb_seconds', 'trustless gateway time to the first byte of the answer', ['format']),
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  })
  const gatewayBytes = new Counter(
    opts('gateway_sent_bytes_total', 'trustless gateway body bytes sent, by format', ['format'])
  )
  for (const format of ['raw', 'car']) {
    gatewayRequests.inc({ format, status: '200' }, 0)
    gatewayTtfb.zero({ format })
    gatewayBytes.inc({ format }, 0)
  }

  let elu = performance.eventLoopUtilization()
  new Gauge({
    ...opts('event_loop_utilization', 'share of time the event loop was busy since the last scrape'),
    collect() {
      const next = performance.eventLoopUtilization()
      this.set(performance.eventLoopUtilization(next, elu).utilization)
      elu = next
    }
  })

  const go = goSeries(opts)
  const payments = paymentSeries(opts)
  // The event recorder's own series (issue 14): events posted, dropped (queue full, or the POST
  // failed, timed out or was refused), and waiting.
  const recorderStats = () => sources.eventRecorder?.() ?? { sent: 0, dropped: 0, queued: 0 }
  const recorderSent = follow(() => recorderStats().sent)
  const recorderDropped = follow(() => recorderStats().dropped)
  new Counter({
    ...opts(
      'event_recorder_events_total',
      'retrieval events for the event recorder, by outcome (dropped: queue full, or the POST failed)',
      ['outcome']
    ),
    collect() {
      this.inc({ outcome: 'sent' }, recorderSent())
      this.inc({ outcome: 'dropped' }, recorderDropped())
    }
  })
  new Gauge({
    ...opts('event_recorder_queued', 'retrieval events waiting to be posted to the event recorder'),
    collect() {
      this.set(recorderStats().queued)
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
    gateway: {
      onRequest(info: { format: string; status: number; ttfbMs: number; bytes: number }) {
        gatewayRequests.inc({ format: info.format, status: String(info.status) })
        if (info.status === 200) gatewayTtfb.observe({ format: info.format }, info.ttfbMs / 1000)
        if (info.bytes > 0) gatewayBytes.inc({ format: info.format }, info.bytes)
      }
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
        go.onAttemptStarted()
      },
      onAttemptEnded(
        protocol: string,
        outcome: string,
        info: { bytes: number; durationMs: number; ttfbMs?: number; errorClass?: string }
      ) {
        active.dec()
        go.onAttemptEnded()
        if (info.ttfbMs !== undefined) ttfb.observe({ protocol }, info.ttfbMs / 1000)
        if (outcome === 'success') {
          protocolSuccess.inc({ protocol })
          duration.observe(info.durationMs / 1000)
          size.observe(info.bytes)
        } else if (outcome === 'failed') {
          fail.inc({ protocol })
          errors.inc({ error_class: info.errorClass ?? 'other' })
        }
      },
      onRetrievalEnded(ok: boolean, reason?: string) {
        if (ok) success.inc()
        else retrievalFailures.inc({ reason: reason ?? 'other' })
      },
      onRateLimited: () => retrievalFailures.inc({ reason: 'rate_limited' }),
      onBytes: (protocol: string, bytes: number) => {
        bytesIn.inc({ protocol }, bytes)
        go.onBytes(bytes)
      },
      onQueries(summary: { answered: number; accepted: number; failures: string[]; passedOver: string[] }) {
        // A candidate passed over by its answer is a failed attempt of its class (no proposal sent).
        for (const errorClass of summary.passedOver) errors.inc({ error_class: errorClass })
        go.onQueries(summary)
      }
    },
    retrievals: {
      onRecord(record: RetrievalRecord) {
        go.onRecord(record)
        payments.onRecord(record)
      }
    }
  }
}

// --- The Go autoretrieve's remaining series (issue 14) ---------------------------------------
// specs/estuary-autoretrieve.md §7: the names, types and buckets the Go node exported, each
// created at 0 so dashboards built on it find every series from the first scrape. Those without
// a meaning here yet stay at 0 (see docs/INTERFACE.md, "Go metric names").

/** The Go node's `retrieval_error_*_total` classes, by the substrings it matched in a failure's message. */
const GO_ERROR_MATCHES: readonly (readonly [string, string])[] = [
  ['paych', 'failed to get payment channel'],
  ['noonline', 'miner is not accepting online retrieval deals'],
  ['unconfirmed', 'unconfirmed block transfer'],
  ['rejected', 'response rejected'],
  ['toomany', 'Too many retrieval deals received'],
  ['acl', 'Access Control'],
  ['maintenance', 'Under maintenance, retry later'],
  ['timeout', 'timeout after ']
]
/** This node's error classes that are one of the Go classes (its classifier read the provider's words). */
const GO_ERROR_OF_CLASS: Record<string, string> = {
  rejected: 'rejected',
  too_many_deals: 'toomany',
  access_control: 'acl',
  under_maintenance: 'maintenance',
  timeout: 'timeout',
  // A channel, lane or voucher this node could not get or sign (Go's "failed to get payment channel").
  paych: 'paych'
}
/** The Go node's query-phase failure series, by the substring it matched in the failure (or the provider's Error message). */
const GO_QUERY_ERRORS: readonly (readonly [string, string | undefined])[] = [
  ['query_error_failed_to_dial', 'failed to dial'],
  ['query_error_failed_to_open_stream', 'failed to open stream to peer'],
  ['query_error_response_eof', 'failed to read response: EOF'],
  ['query_error_response_stream_reset', 'failed to read response: stream reset'],
  ['query_error_dagstore', 'getting pieces for cid'],
  ['query_error_dealstate', 'failed to fetch storage deal state'],
  ['query_error_error_other_total', undefined]
]
/** Attempt records of candidates the query phase passed over (no proposal sent). */
const QUERY_PHASE_CLASSES = new Set(['paid_not_allowed', 'query_failed', 'query_unavailable'])

/**
 * Whether a failed attempt record is a query-phase pass-over, not a retrieval Go would have
 * counted. `price_too_high` is one when the ask was over a cap (never connected: no proposal);
 * the same class mid-transfer (a voucher past the day's limit) is a failed retrieval.
 */
function passedOver(record: { errorClass: string | null; connectedAt: Date | null }): boolean {
  if (QUERY_PHASE_CLASSES.has(record.errorClass ?? '')) return true
  return record.errorClass === 'price_too_high' && record.connectedAt === null
}
const PER_REQUEST_BUCKETS = [0, 1, 2, 3, 4, 5, 10, 20, 40]
/** Retrievals followed at once for their failed attempts; past this the oldest is forgotten (bounded memory). */
const MAX_FOLLOWED_RETRIEVALS = 10_000

/** The Go class of a failed attempt: a message substring first (as Go matched), else this node's class; `other` when neither. */
function goErrorClass(errorClass: string | null, message: string | null): string {
  for (const [name, substring] of GO_ERROR_MATCHES) if (message?.includes(substring)) return name
  return GO_ERROR_OF_CLASS[errorClass ?? ''] ?? 'other'
}

function goSeries(
  opts: (name: string, help: string) => { name: string; help: string; labelNames: never[]; registers: Registry[] }
) {
  const counter = (name: string, help: string) => new Counter(opts(name, help))
  const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ ...opts(name, help), buckets })
  const bytes = counter('data_transferred_bytes_total', 'bytes received from storage providers (Go name)')
  // Go's distribution had no bounds: one +Inf bucket. Go observed TotalPayment in attoFIL despite
  // the name, once per successful attempt (a free one as 0); so does this node, from the record.
  const cost = histogram(
    'retrieval_deal_cost_fil',
    'what each successful attempt paid, in attoFIL as Go recorded it (Go name; 0: a free one)',
    []
  )
  const activeEvents = counter(
    'retrieval_deal_active_total',
    'attempt starts plus attempt ends (Go counted both; see retrieval_deal_active)'
  )
  const goErrors = new Map<string, Counter>()
  for (const name of [...GO_ERROR_MATCHES.map(([n]) => n), 'other'])
    goErrors.set(name, counter(`retrieval_error_${name}_total`, `failed attempts the Go node classed "${name}"`))
  const queryErrors = GO_QUERY_ERRORS.map(
    ([name, substring]) => [counter(name, 'retrieval query failures (/fil/retrieval/qry; Go name)'), substring] as const
  )
  const withQueries = counter(
    'request_with_successful_queries_total',
    'retrievals with at least one answered retrieval query (Go name)'
  )
  const withQueriesFiltered = counter(
    'request_with_successful_queries_filtered_total',
    'retrievals with at least one query answer let through to a proposal (Go name)'
  )
  const queriesPerRequest = histogram(
    'successful_queries_per_request_total',
    'answered retrieval queries per retrieval that queried (Go name)',
    PER_REQUEST_BUCKETS
  )
  const queriesPerRequestFiltered = histogram(
    'successful_queries_per_request_filtered_total',
    'query answers let through to a proposal per retrieval that queried (Go name)',
    PER_REQUEST_BUCKETS
  )
  const failedPerRequest = histogram(
    'failed_retrievals_per_request_total',
    'failed attempts before a successful retrieval',
    PER_REQUEST_BUCKETS
  )
  for (const c of [bytes, activeEvents, ...goErrors.values()]) c.inc(0)
  /** Failed attempts so far, by retrieval id (insertion order: the oldest first). */
  const failed = new Map<string, number>()
  return {
    onQueries(summary: { answered: number; accepted: number; failures: string[] }) {
      if (summary.answered > 0) withQueries.inc()
      if (summary.accepted > 0) withQueriesFiltered.inc()
      queriesPerRequest.observe(summary.answered)
      queriesPerRequestFiltered.observe(summary.accepted)
      for (const failure of summary.failures) {
        const [series] = queryErrors.find(([, substring]) => substring === undefined || failure.includes(substring))!
        series.inc()
      }
    },
    onAttemptStarted: () => activeEvents.inc(),
    onAttemptEnded: () => activeEvents.inc(),
    onBytes: (n: number) => bytes.inc(n),
    onRecord(record: RetrievalRecord) {
      if (record.type === 'retrieval-started') {
        failed.set(record.id, 0)
        if (failed.size > MAX_FOLLOWED_RETRIEVALS) failed.delete(failed.keys().next().value as string)
      } else if (record.type === 'attempt' && record.outcome === 'success') {
        cost.observe(attoFil(record.cost))
      } else if (
        record.type === 'attempt' &&
        record.outcome === 'failed' &&
        // Passed over by its query answer: no retrieval was attempted (query_error_* count those).
        !passedOver(record)
      ) {
        goErrors.get(goErrorClass(record.errorClass, record.errorMessage))!.inc()
        const seen = failed.get(record.retrievalId)
        if (seen !== undefined) failed.set(record.retrievalId, seen + 1)
      } else if (record.type === 'retrieval-finished') {
        const seen = failed.get(record.id)
        failed.delete(record.id)
        if (record.status === 'success' && seen !== undefined) failedPerRequest.observe(seen)
      }
    }
  }
}

/**
 * This node's own spend series: attoFIL paid by every attempt that ended, successful or not (a
 * failed attempt keeps what it paid for the bytes it delivered). Counted from the attempt's final
 * record, whose cost is its lanes' cumulative total, so nothing is counted twice.
 */
function paymentSeries(
  opts: (name: string, help: string) => { name: string; help: string; labelNames: never[]; registers: Registry[] }
) {
  const paid = new Counter(
    opts(
      'retrieval_paid_attofil_total',
      'attoFIL paid to storage providers for retrievals, by every attempt that ended'
    )
  )
  const paidAttempts = new Counter(opts('retrieval_paid_attempts_total', 'attempts that ended having paid something'))
  paid.inc(0)
  paidAttempts.inc(0)
  return {
    onRecord(record: RetrievalRecord) {
      if (record.type !== 'attempt' || record.outcome === 'running') return
      const amount = attoFil(record.cost)
      if (amount <= 0) return
      paid.inc(amount)
      paidAttempts.inc()
    }
  }
}

/**
 * A record's attoFIL decimal string as a number for Prometheus (a float64, as Go's int64 became in
 * its exporter; past 2^53 attoFIL, about 0.009 FIL, the last digits round); 0 when absent or malformed.
 */
function attoFil(cost: string | null | undefined): number {
  if (typeof cost !== 'string' || !/^\d{1,78}$/.test(cost)) return 0
  return Number(BigInt(cost))
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
