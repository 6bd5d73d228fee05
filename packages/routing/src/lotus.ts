import { multiaddr } from '@multiformats/multiaddr'
import { MINER_CACHE_TTL_MS, MINER_FAILURE_TTL_MS } from './constants.ts'
import { MinerResolutionError } from './errors.ts'
import { multiaddrToHttpUrl } from './multiaddr-url.ts'
import type { Fetch, Logger, MinerResolver } from './types.ts'

export function isMinerAddress(s: string): boolean {
  return /^[ft]0\d+$/.test(s)
}

/**
 * FULLNODE_API_INFO as Lotus tools read it: "TOKEN:/ip4/…/tcp/1234/http", a multiaddr, or a URL.
 * WebSocket URLs are spoken to over HTTP POST (Lotus serves JSON-RPC on both), which needs no
 * connection state.
 */
export function parseApiInfo(info: string): { url: string; token?: string } {
  let token: string | undefined
  let rest = info
  const colon = info.indexOf(':/')
  if (colon > 0 && !/^[a-z]+:\/\//i.test(info)) {
    token = info.slice(0, colon)
    rest = info.slice(colon + 1)
  }
  let url = rest
  if (rest.startsWith('/')) {
    url = multiaddrToHttpUrl(rest) ?? multiaddrToHttpUrl(`${rest}/http`) ?? ''
    if (url === '') throw new MinerResolutionError(`FULLNODE_API_INFO ${rest} is not an HTTP multiaddr`)
  }
  url = url.replace(/^ws:/, 'http:').replace(/^wss:/, 'https:').replace(/\/+$/, '')
  if (!url.endsWith('/rpc/v1') && !url.endsWith('/rpc/v0')) url = `${url}/rpc/v1`
  return { url, token }
}

/** Resolves miner addresses to peers with Filecoin.StateMinerInfo, caching answers (and, briefly, failures). */
export function createLotusMinerResolver(
  components: { logger?: Logger; fetch?: Fetch },
  init: { apiInfo: string; cacheTtlMs?: number; timeoutMs?: number }
): MinerResolver {
  const fetchFn = components.fetch ?? fetch
  const { url, token } = parseApiInfo(init.apiInfo)
  const cache = new Map<string, { at: number; value?: { peerId: string; addrs: string[] }; error?: Error }>()
  const ttl = init.cacheTtlMs ?? MINER_CACHE_TTL_MS
  return {
    async resolve(miner, options = {}) {
      const hit = cache.get(miner)
      if (hit && Date.now() - hit.at < (hit.error ? MINER_FAILURE_TTL_MS : ttl)) {
        if (hit.error) throw hit.error
        return hit.value!
      }
      try {
        const value = await call(miner, options.signal)
        cache.set(miner, { at: Date.now(), value })
        return value
      } catch (err) {
        const error =
          err instanceof MinerResolutionError
            ? err
            : new MinerResolutionError(`miner ${miner}: ${(err as Error).message}`, { cause: err })
        cache.set(miner, { at: Date.now(), error })
        throw error
      }
    }
  }

  async function call(miner: string, signal?: AbortSignal): Promise<{ peerId: string; addrs: string[] }> {
    const signals = [AbortSignal.timeout(init.timeoutMs ?? 10_000)]
    if (signal) signals.push(signal)
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Filecoin.StateMinerInfo', params: [miner, null] }),
      signal: AbortSignal.any(signals)
    })
    if (!res.ok) throw new MinerResolutionError(`miner ${miner}: Lotus answered HTTP ${res.status}`)
    const body = (await res.json().catch(() => null)) as {
      result?: { PeerId?: unknown; Multiaddrs?: unknown }
      error?: { message?: string }
    } | null
    if (body?.error) throw new MinerResolutionError(`miner ${miner}: ${body.error.message ?? 'Lotus error'}`)
    const peerId = body?.result?.PeerId
    if (typeof peerId !== 'string' || peerId === '')
      throw new MinerResolutionError(`miner ${miner} has no peer ID on chain`)
    const raw = Array.isArray(body?.result?.Multiaddrs) ? (body!.result!.Multiaddrs as unknown[]) : []
    const addrs: string[] = []
    for (const b64 of raw) {
      try {
        addrs.push(multiaddr(Buffer.from(String(b64), 'base64')).toString())
      } catch {
        components.logger?.warn({ miner }, 'skipping an undecodable miner multiaddr')
      }
    }
    return { peerId, addrs }
  }
}
