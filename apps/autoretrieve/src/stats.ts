import type { StatsSnapshot } from '@autoretrieve/admin'
import type { BitswapServer } from '@autoretrieve/bitswap'
import type { BlockCache } from '@autoretrieve/blockcache'
import type { RecordWriter } from '@autoretrieve/store'
import type { PolicyService } from './policy-service.ts'
import type { createNodeRetriever } from './retrieval.ts'

/** The parts whose counters the admin plane shows. */
export interface StatsParts {
  bitswap: Pick<BitswapServer, 'stats'>
  /** Absent when retrieval is disabled: its counters read 0. */
  retriever?: Pick<ReturnType<typeof createNodeRetriever>, 'stats'>
  cache: Pick<BlockCache, 'stats'>
  records: Pick<RecordWriter, 'stats'>
  policy: Pick<PolicyService, 'current'>
  peers: () => number
}

/**
 * The live counters of `GET /api/v1/stats` and its stream, read from each part when asked (the
 * dashboard polls once a second; nothing is kept between reads but the start time).
 */
export function statsReader(parts: StatsParts): () => StatsSnapshot {
  const startedAt = Date.now()
  return () => {
    const b = parts.bitswap.stats()
    const r = parts.retriever?.stats()
    const c = parts.cache.stats()
    const w = parts.records.stats()
    return {
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
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
        failures: { ...r?.failures },
        rateLimited: r?.rateLimited ?? 0
      },
      bytes: { in: r?.bytes ?? 0, out: b.bytesSent },
      cache: { blocks: c.blocks, bytes: c.bytes, diskBytes: c.diskBytes },
      records: { buffered: w.buffered, written: w.written, dropped: w.dropped }
    }
  }
}
