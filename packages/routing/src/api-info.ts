import { InvalidApiInfoError } from './errors.ts'
import { multiaddrToHttpUrl } from './multiaddr-url.ts'

/** Where to POST Lotus JSON-RPC, and the bearer token if the API info carried one. */
export interface LotusEndpoint {
  url: string
  token?: string
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * FULLNODE_API_INFO in the forms Lotus tools accept: a URL (`wss://api.chain.love`,
 * `https://host/rpc/v1`), a multiaddr (`/ip4/1.2.3.4/tcp/1234/http`, `/dns/host/tcp/443/wss`,
 * `/ip4/…/tcp/1234` meaning HTTP), each optionally behind `TOKEN:` (a JWT sent as a bearer token).
 *
 * WebSocket endpoints are spoken to over HTTP POST on the same host and path instead: Lotus
 * serves JSON-RPC on both, and one request per lookup needs no connection to keep alive or
 * re-open. A missing path means `/rpc/v1`.
 */
export function parseApiInfo(info: string): LotusEndpoint {
  if (typeof info !== 'string' || info.trim() === '') throw new InvalidApiInfoError('FULLNODE_API_INFO is empty')
  let token: string | undefined
  let rest = info.trim()
  if (!HAS_SCHEME.test(rest) && !rest.startsWith('/')) {
    const colon = rest.indexOf(':')
    if (colon <= 0) throw new InvalidApiInfoError('FULLNODE_API_INFO is neither a URL, a multiaddr nor TOKEN:address')
    token = rest.slice(0, colon)
    rest = rest.slice(colon + 1)
  }
  let url: URL
  try {
    if (rest.startsWith('/')) {
      const ma = rest.replace(/\/wss$/, '/https').replace(/\/ws$/, '/http')
      const http = multiaddrToHttpUrl(ma) ?? multiaddrToHttpUrl(`${ma}/http`)
      if (http === undefined) throw new Error('not an HTTP or WebSocket multiaddr')
      url = new URL(http)
    } else {
      url = new URL(rest)
    }
  } catch (cause) {
    throw new InvalidApiInfoError(`FULLNODE_API_INFO address ${rest} is not usable: ${(cause as Error).message}`, {
      cause
    })
  }
  if (url.protocol === 'ws:') url.protocol = 'http:'
  else if (url.protocol === 'wss:') url.protocol = 'https:'
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidApiInfoError(`FULLNODE_API_INFO scheme ${url.protocol} is not http(s) or ws(s)`)
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/rpc/v1'
  return { url: url.toString().replace(/\/$/, ''), ...(token ? { token } : {}) }
}
