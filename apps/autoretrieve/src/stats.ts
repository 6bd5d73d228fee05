import type { StatsSnapshot } from '@autoretrieve/admin'
import type { BitswapServer } from '@autoretrieve/bitswap'
import type { BlockCache } from '@autoretrieve/blockcache'
import type { Heartbeat } from '@autoretrieve/estuary'
import type { RecordWriter } from '@autoretrieve/store'
import type { PolicyService } from './policy-service.ts'
import type { createNodeRetriever } from './retrieval.ts'
import type { RetrievalTally } from './retrieval-tally.ts'

/** The parts whose counters the admin plane shows. */
export interface StatsParts {
  bitswap: Pick<BitswapServer, 'stats'>
  /** Absent when retrieval is disabled: its counters read 0. */
  retriever?: Pick<ReturnType<typeof createNodeRetriever>, 'stats'>
  cache: Pick<BlockCache, 'stats'>
  pruneThresholdBytes: number
  records: Pick<RecordWriter, 'stats'>
  policy: Pick<PolicyService, 'current'>
  heartbeat: Pick<Heartbeat, 'status'>
  /** Time to first byte, counted from the retriever's events. */
  tally: Pick<RetrievalTally, 'read'>
  peers: () => number
  /** Absent when gateway-listen is empty. */
  gateway?: { stats(): NonNullable<StatsSnapshot['gateway']> }
}

/**
 * The live counters of `GET /api/v1/stats` and its stream, read from each part when asked (the
 * dashboard polls once a second; nothing is kept between reads but the start time).
 */
export function statsReader(parts: StatsParts): () => StatsSnapshot {
  const startedAt = Date.now()
  const startedAtIso = new Date(startedAt).toISOString()
  return () => {
    const b = parts.bitswap.stats()
    const r = parts.retriever?.stats()
    const c = parts.cache.stats()
    const w = parts.records.stats()
    const h = parts.heartbeat.status()
    const t = parts.tally.read()
    return {
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      startedAt: startedAtIso,
      policyVersion: parts.policy.current().version,
      peers: parts.peers(),
      wants: b.wants,
      wantsReceived: b.wantsReceived,
      hits: b.hits,
      misses: b.misses,
      blocksSent: b.blocksSent,
      haves: b.haves,
      dontHaves: b.dontHaves,
      retrievals: {
        active: r?.active ?? 0,
        succeeded: r?.succeeded ?? 0,
        failed: r?.failed ?? 0,
        // `success` or the failure reason -> count: the retriever's own totals, as the console reads them.
        byOutcome: { ...(r !== undefined && r.succeeded > 0 && { success: r.succeeded }), ...r?.failures },
        failures: { ...r?.failures },
        rateLimited: r?.rateLimited ?? 0
      },
      bytes: { in: r?.bytes ?? 0, out: b.bytesSent },
      ttfb: t.ttfb,
      cache: {
        blocks: c.blocks,
        bytes: c.bytes,
        diskBytes: c.diskBytes,
        pruneThresholdBytes: parts.pruneThresholdBytes
      },
      records: { buffered: w.buffered, written: w.written, dropped: w.dropped },
      heartbeat: { state: h.state, lastSuccessAt: h.lastSuccessAt, lastError: h.lastError },
      ...(parts.gateway !== undefined && { gateway: parts.gateway.stats() })
    }
  }
}
