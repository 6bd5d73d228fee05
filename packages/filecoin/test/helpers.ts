import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'

// The repository's test-vectors/ (as @autoretrieve/testkit's testVectorsDir finds it; testkit
// depends on this package, so this package cannot depend on it).
const dir = fileURLToPath(new URL('../../../test-vectors/', import.meta.url))

/** A vector file's JSON. Throws, naming the path, when the repository's test-vectors/ is missing. */
// biome-ignore lint/suspicious/noExplicitAny: vector files are untyped JSON
export function loadVectors(name: string): any {
  if (!existsSync(dir))
    throw new Error(`protocol test vectors not found at ${dir}: the repository's test-vectors/ is missing`)
  return JSON.parse(readFileSync(join(dir, name), 'utf8'))
}

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** ExploreAllRecursively as an IPLD data-model value. */
export const exploreAll = { R: { l: { none: {} }, ':>': { a: { '>': { '@': {} } } } } }

/** A libp2p node on 127.0.0.1 (TCP, Noise, Yamux), as the data-transfer handler meets providers. */
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
