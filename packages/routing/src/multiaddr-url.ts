import { multiaddr } from '@multiformats/multiaddr'

/**
 * An HTTP(S) multiaddr as a base URL, as go-libipni's maurl does:
 * /dns4/sp.example/tcp/443/https -> https://sp.example, /ip4/1.2.3.4/tcp/8080/http -> http://1.2.3.4:8080,
 * with /http-path appended. Anything else (a libp2p address) is undefined.
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
        scheme = 'https'
        break
      case 'http':
        scheme ??= 'http'
        break
      case 'https':
        scheme = 'https'
        break
      case 'http-path':
        path = `/${decodeURIComponent(c.value ?? '').replace(/^\//, '')}`
        break
      default:
        break
    }
  }
  if (host === undefined || scheme === undefined) return undefined
  const defaultPort = scheme === 'https' ? '443' : '80'
  return `${scheme}://${host}${port && port !== defaultPort ? `:${port}` : ''}${path}`.replace(/\/$/, '')
}
