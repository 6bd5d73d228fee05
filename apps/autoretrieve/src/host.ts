import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { kadDHT, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p, type ServiceFactoryMap } from 'libp2p'
import { StartupError } from './errors.ts'
import type { Logger } from './logger.ts'
import { noiseCrypto } from './noise-crypto.ts'

/** Public IPFS bootstrap peers, used only when the DHT is on. */
const BOOTSTRAP_PEERS = [
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb',
  '/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt',
  '/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ'
]

export interface HostInit {
  privateKey: PrivateKey
  listenAddrs: string[]
  routingTableType: 'dht' | 'full' | 'disabled'
  logger: Logger
}

export type Host = Libp2p<Record<string, unknown>>

/**
 * The libp2p host: TCP and WebSockets, Noise (with noise-crypto.ts), Yamux, Identify, and a DHT client unless disabled.
 * `full`/`fullrt` (Go's accelerated DHT client) has no JS equivalent: it runs the DHT client and
 * says so once.
 */
export async function createHost(init: HostInit): Promise<Host> {
  const { logger } = init
  const dhtOn = init.routingTableType !== 'disabled'
  if (init.routingTableType === 'full') {
    logger.warn('routing-table-type "full" has no JavaScript equivalent; running the standard DHT client instead')
  }
  const services: ServiceFactoryMap = { identify: identify(), ping: ping() }
  if (dhtOn) {
    services.dht = kadDHT({
      clientMode: true,
      peerInfoMapper: removePrivateAddressesMapper
    }) as unknown as ServiceFactoryMap[string]
  }
  const node = await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listenAddrs },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux()],
    peerDiscovery: dhtOn ? [bootstrap({ list: BOOTSTRAP_PEERS })] : [],
    services,
    start: false
  })
  try {
    await node.start()
  } catch (err) {
    await Promise.resolve(node.stop()).catch(() => {})
    throw describeListenError(err, init.listenAddrs)
  }
  return node as unknown as Host
}

function describeListenError(err: unknown, listenAddrs: string[]): Error {
  const text = String((err as Error)?.message ?? err)
  const code = (err as NodeJS.ErrnoException)?.code ?? (err as { cause?: NodeJS.ErrnoException })?.cause?.code
  if (code === 'EADDRINUSE' || /EADDRINUSE|address already in use/i.test(text)) {
    const port = /:(\d+)\b/.exec(text)?.[1]
    const which = listenAddrs.find((a) => port !== undefined && a.includes(`/tcp/${port}`)) ?? listenAddrs.join(', ')
    return new StartupError(`listen address ${which} is already in use (set listen-addrs or --listen)`, { cause: err })
  }
  if (code === 'EACCES' || /EACCES/.test(text)) {
    return new StartupError(`no permission to listen on ${listenAddrs.join(', ')}`, { cause: err })
  }
  return new StartupError(`libp2p could not start on ${listenAddrs.join(', ')}: ${text}`, { cause: err })
}
