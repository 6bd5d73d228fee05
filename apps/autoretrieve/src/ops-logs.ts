import { readdir } from 'node:fs/promises'
import type { RetrievalFinished } from '@autoretrieve/retriever'
import type { Host } from './host.ts'
import type { Logger } from './logger.ts'

/** The Go node's period for `log-resource-manager` (a ticker of 10 s in its initHost). */
export const RESOURCE_LOG_INTERVAL_MS = 10_000

/**
 * `log-resource-manager`: the Go node logged its libp2p resource manager's system scope every
 * 10 s (memory, inbound/outbound connections, file descriptors, inbound/outbound streams). This
 * logs the same figures as this node has them: at start, then every interval, until stopped.
 */
export function startResourceLog(host: Host, logger: Logger, intervalMs = RESOURCE_LOG_INTERVAL_MS): () => void {
  const log = async () => {
    const conns = host.getConnections()
    const streams = conns.flatMap((c) => c.streams)
    const memory = process.memoryUsage()
    logger.info(
      {
        memoryBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        connsInbound: conns.filter((c) => c.direction === 'inbound').length,
        connsOutbound: conns.filter((c) => c.direction === 'outbound').length,
        streamsInbound: streams.filter((s) => s.direction === 'inbound').length,
        streamsOutbound: streams.filter((s) => s.direction === 'outbound').length,
        fds: await openFds()
      },
      'resource usage'
    )
  }
  const tick = () => void log().catch((err) => logger.warn({ err }, 'could not read resource usage'))
  tick()
  const timer = setInterval(tick, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

/** Open file descriptors (Linux /proc); undefined where that cannot be read. */
async function openFds(): Promise<number | undefined> {
  try {
    return (await readdir('/proc/self/fd')).length
  } catch {
    return undefined
  }
}

/**
 * `log-retrieval-stats`: one line per finished retrieval, with the provider that served it (or
 * those tried), the bytes, the duration and the outcome.
 */
export function retrievalStatsLogger(logger: Logger): (s: RetrievalFinished) => void {
  return (s) =>
    logger.info(
      {
        retrievalId: s.id,
        cid: s.cid,
        outcome: s.ok ? 'success' : 'failed',
        ...(s.reason ? { reason: s.reason } : {}),
        provider: s.provider ?? s.providersTried.at(-1) ?? null,
        protocol: s.protocol ?? null,
        providersTried: s.providersTried,
        bytes: s.bytes,
        blocks: s.blocks,
        durationMs: s.durationMs
      },
      'retrieval finished'
    )
}
