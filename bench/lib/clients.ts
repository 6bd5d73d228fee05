import { fileURLToPath } from 'node:url'
import { spawnNode } from './process.ts'

const FETCH = fileURLToPath(new URL('./helia-fetch.ts', import.meta.url))

export interface ClientResult {
  bytes: number
  ms: number
  firstByteMs: number
  rootBlockMs?: number
  startedAt: number
  endedAt: number
  cpuMs: number
}

export interface RoundResult {
  clients: number
  bytes: number
  wallMs: number
  /** Aggregate throughput, MB/s (10^6 bytes). */
  mbps: number
  meanFirstByteMs: number
  /** With rootFirst: mean time to the root block alone (one want, one answer). */
  meanRootBlockMs?: number
  /** CPU time all client processes spent fetching, ms. */
  clientCpuMs: number
  /** Epoch ms when the first client started and the last one ended: the transfer's window. */
  startedAt: number
  endedAt: number
}

/** `n` Helia client processes fetch `root` from `addr`, starting together; aggregate over the round's wall time. */
export async function fetchWithClients(
  addr: string,
  root: string,
  n: number,
  timeoutMs = 300_000,
  options: { rootFirst?: boolean } = {}
): Promise<RoundResult> {
  const startAt = Date.now() + 2_500
  const args = [addr, root, String(startAt), ...(options.rootFirst ? ['root-first'] : [])]
  const procs = Array.from({ length: n }, () => spawnNode(FETCH, args))
  try {
    const results = await Promise.all(procs.map((p) => p.firstJson<ClientResult>(timeoutMs)))
    const bytes = results.reduce((a, r) => a + r.bytes, 0)
    const startedAt = Math.min(...results.map((r) => r.startedAt))
    const endedAt = Math.max(...results.map((r) => r.endedAt))
    const wallMs = endedAt - startedAt
    return {
      startedAt,
      endedAt,
      clients: n,
      bytes,
      wallMs,
      mbps: bytes / 1e6 / (wallMs / 1000),
      meanFirstByteMs: results.reduce((a, r) => a + r.firstByteMs, 0) / n,
      ...(options.rootFirst ? { meanRootBlockMs: results.reduce((a, r) => a + (r.rootBlockMs ?? 0), 0) / n } : {}),
      clientCpuMs: results.reduce((a, r) => a + r.cpuMs, 0)
    }
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
}
