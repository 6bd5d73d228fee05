import { multiaddr } from '@multiformats/multiaddr'

/**
 * An HTTP(S) multiaddr as a base URL (no trailing slash), following go-libipni's maurl.ToURL:
 * host from /ip4 /ip6 /dns /dns4 /dns6, port from /tcp, scheme https for /https or /tls/…/http,
 * http for /http, path from /http-path. Default ports are dropped, as WHATWG URLs print them:
 *   /dns4/sp.example/tcp/443/https            -> https://sp.example
 *   /ip4/1.2.3.4/tcp/8080/http                -> http://1.2.3.4:8080
 *   /dns/sp.example/tcp/443/tls/sni/x/http    -> https://sp.example
 *   /ip4/1.2.3.4/tcp/80/http/http-path/ipfs   -> http://1.2.3.4/ipfs
 * A libp2p address (no /http or /https, or WebSockets) gives undefined.
 */
export function multiaddrToHttpUrl(text: string): string | undefined {
  let components: Array<{ name: string; value?: string }>
  try {
    components = multiaddr(text).getComponents()
  } catch {
    return undefined
  }
  let host: string | undefined
  let port: string | undefined
  let tls = false
  let scheme: 'http' | 'https' | undefined
  let path = ''
  for (const c of components) {
    switch (c.name) {
      case 'ip4':
      case 'dns':
      case 'dns4':
      case 'dns6':
        host = c.value
        break
      case 'ip6':
        host = `[${c.value}]`
        break
      case 'tcp':
        port = c.value
        break
      case 'tls':
        tls = true
        break
      case 'http':
        scheme = tls ? 'https' : 'http'
        break
      case 'https':
        scheme = 'https'
        break
      case 'http-path':
        path = c.value ?? ''
        break
      case 'udp':
      case 'ws':
      case 'wss':
      case 'quic':
      case 'quic-v1':
      case 'webtransport':
        return undefined
      default:
        break // /sni, /p2p and the like do not change the URL
    }
  }
  if (host === undefined || scheme === undefined) return undefined
  try {
    const url = new URL(`${scheme}://${host}${port === undefined ? '' : `:${port}`}`)
    if (path !== '') url.pathname = `/${path.replace(/^\/+/, '')}`
    return url.toString().replace(/\/+$/, '')
  } catch {
    return undefined
  }
}
