import type { AbortOptions, Logger } from '@autoretrieve/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { LRUCache } from 'lru-cache'
import { parseApiInfo } from './api-info.ts'
import {
  DEFAULT_LOTUS_TIMEOUT_MS,
  DEFAULT_MINER_CACHE_SIZE,
  DEFAULT_MINER_CACHE_TTL_MS,
  DEFAULT_MINER_FAILURE_TTL_MS
} from './constants.ts'
import { MinerResolutionError } from './errors.ts'
import { decodeBase64 } from './metadata.ts'
import type { Fetch, MinerResolver } from './types.ts'

/** A Filecoin ID address of a miner: f0123 on mainnet, t0123 on test networks. */
export function isMinerAddress(s: string): boolean {
  return typeof s === 'string' && /^[ft]0\d{1,20}$/.test(s)
}

export interface LotusMinerResolverInit {
  /** FULLNODE_API_INFO (see parseApiInfo). */
  apiInfo: string
  /** How long a resolved miner is remembered. @default 3600000 (DEFAULT_MINER_CACHE_TTL_MS) */
  cacheTtlMs?: number
  /** How long a failure is remembered before Lotus is asked again. @default 30000 (DEFAULT_MINER_FAILURE_TTL_MS) */
  failureTtlMs?: number
  /** Per StateMinerInfo call. @default 10000 (DEFAULT_LOTUS_TIMEOUT_MS) */
  timeoutMs?: number
}

type Peer = { peerId: string; addrs: string[] }
type Entry = { peer: Peer; error?: undefined } | { peer?: undefined; error: MinerResolutionError }

/**
 * Miner address -> peer through Lotus `Filecoin.StateMinerInfo` (JSON-RPC 2.0 over HTTP POST).
 * Answers are cached (an hour), failures briefly; concurrent lookups of one miner share a call,
 * which runs under its own timeout so that one caller's abort does not fail the others.
 */
export function createLotusMinerResolver(
  components: { logger?: Logger; fetch?: Fetch },
  init: LotusMinerResolverInit
): MinerResolver {
  const fetchFn = components.fetch ?? globalThis.fetch
  const { url, token } = parseApiInfo(init.apiInfo)
  const ttl = init.cacheTtlMs ?? DEFAULT_MINER_CACHE_TTL_MS
  const failureTtl = init.failureTtlMs ?? DEFAULT_MINER_FAILURE_TTL_MS
  const timeoutMs = init.timeoutMs ?? DEFAULT_LOTUS_TIMEOUT_MS
  const cache = new LRUCache<string, Entry>({ max: DEFAULT_MINER_CACHE_SIZE })
  const inflight = new Map<string, Promise<Peer>>()

  /** A TTL of 0 means "do not remember" here; to lru-cache it would mean "forever". */
  const remember = (miner: string, entry: Entry, ttlMs: number) => {
    if (ttlMs > 0) cache.set(miner, entry, { ttl: ttlMs })
    else cache.delete(miner)
  }

  const call = async (miner: string): Promise<Peer> => {
    let res: Response
    try {
      res = await fetchFn(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Filecoin.StateMinerInfo', params: [miner, null] }),
        signal: AbortSignal.timeout(timeoutMs)
      })
    } catch (cause) {
      const why = (cause as Error).name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (cause as Error).message
      throw new MinerResolutionError(miner, `Lotus at ${url} unreachable: ${why}`, { cause })
    }
    let body: { result?: { PeerId?: unknown; Multiaddrs?: unknown } | null; error?: { message?: unknown } } | null
    try {
      body = (await res.json()) as typeof body
    } catch (cause) {
      throw new MinerResolutionError(miner, `Lotus answered HTTP ${res.status} without JSON-RPC`, { cause })
    }
    if (body?.error) throw new MinerResolutionError(miner, `Lotus: ${String(body.error.message ?? 'error')}`)
    if (!res.ok) throw new MinerResolutionError(miner, `Lotus answered HTTP ${res.status}`)
    const peerId = body?.result?.PeerId
    if (typeof peerId !== 'string' || peerId === '') throw new MinerResolutionError(miner, 'no peer ID on chain')
    const raw = body?.result?.Multiaddrs
    const addrs: string[] = []
    for (const b64 of Array.isArray(raw) ? raw : []) {
      try {
        addrs.push(multiaddr(decodeBase64(String(b64), 'multiaddr')).toString())
      } catch {
        components.logger?.warn({ miner }, 'skipping a miner multiaddr that does not decode')
      }
    }
    return { peerId, addrs }
  }

  const shared = (miner: string): Promise<Peer> => {
    let p = inflight.get(miner)
    if (p === undefined) {
      p = call(miner).then(
        (peer) => {
          remember(miner, { peer }, ttl)
          return peer
        },
        (error: MinerResolutionError) => {
          components.logger?.warn({ miner, err: error.message }, 'miner resolution failed')
          remember(miner, { error }, failureTtl)
          throw error
        }
      )
      p.finally(() => inflight.delete(miner)).catch(() => {})
      inflight.set(miner, p)
    }
    return p
  }

  return {
    async resolve(miner: string, options: AbortOptions = {}): Promise<Peer> {
      options.signal?.throwIfAborted()
      const hit = cache.get(miner)
      if (hit !== undefined) {
        if (hit.error) throw hit.error
        return hit.peer
      }
      const p = shared(miner)
      if (options.signal === undefined) return p
      const signal = options.signal
      return new Promise<Peer>((resolve, reject) => {
        const onAbort = () => reject(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
        p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
      })
    }
  }
}
