import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { multihashKey } from '@autoretrieve/interface'
import { CarBlockIterator } from '@ipld/car/iterator'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { CID } from 'multiformats/cid'

/**
 * The repository's test-vectors/, as @autoretrieve/testkit finds it (not a dependency here: cycle).
 * Throws, naming the path, when it is missing: a vector test never skips.
 */
export function vectorsDir(): string {
  const dir = fileURLToPath(new URL('../../../test-vectors/', import.meta.url))
  if (!existsSync(dir))
    throw new Error(`protocol test vectors not found at ${dir}: the repository's test-vectors/ is missing`)
  return dir
}

/** A CAR as a map-backed blockstore plus its roots and blocks in file order. */
export async function carStore(bytes: Uint8Array) {
  const iter = await CarBlockIterator.fromBytes(bytes)
  const roots = await iter.getRoots()
  const blocks = new Map<string, Uint8Array>()
  const order: CID[] = []
  for await (const b of iter) {
    blocks.set(multihashKey(b.cid), b.bytes)
    order.push(b.cid)
  }
  return {
    roots,
    order,
    blocks,
    async get(cid: CID) {
      return blocks.get(multihashKey(cid))
    }
  }
}

export async function readCar(dir: string, name: string) {
  return carStore(await readFile(`${dir}/car/${name}`))
}

export async function loopbackNode(): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  return node as unknown as Libp2p
}
