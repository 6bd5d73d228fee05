import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { yamux } from '@libp2p/yamux'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { MemoryDatastore } from 'datastore-core/memory'
import { createHeliaLight } from 'helia'

/**
 * A real, third-party IPFS client (Helia with @helia/bitswap) on loopback, with nothing but
 * Bitswap as its way to find blocks: no DHT, no HTTP gateways, no routers. Tests and benchmarks
 * dial it to the node and ask for content; whatever it gets came over Bitswap from that node.
 */
export async function createHeliaPeer(init: { listen?: boolean; port?: number; blockstore?: MemoryBlockstore } = {}) {
  const helia = withBitswap(
    withLibp2pLight(
      createHeliaLight({ blockstore: init.blockstore ?? new MemoryBlockstore(), datastore: new MemoryDatastore() }),
      {
        addresses: { listen: init.listen ? [`/ip4/127.0.0.1/tcp/${init.port ?? 0}`] : [] },
        transports: [tcp(), webSockets()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify() }
      }
    )
  )
  await helia.start()
  return helia
}

export type HeliaPeer = Awaited<ReturnType<typeof createHeliaPeer>>
