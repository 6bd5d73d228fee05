import { unixfs } from '@helia/unixfs'
import { CarWriter } from '@ipld/car/writer'
import * as dagPb from '@ipld/dag-pb'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { MemoryDatastore } from 'datastore-core/memory'
import { createHeliaLight } from 'helia'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import type { CID } from 'multiformats/cid'

export interface UnixfsFixture {
  root: CID
  /** The file's bytes, to compare what a client got. */
  bytes: Uint8Array
  /** Every block of the DAG, in DFS order (the order a trustless CAR carries them). */
  blocks: Array<{ cid: CID; bytes: Uint8Array }>
  /** The DAG as a CARv1 in DFS order with the root as its only root. */
  car: Uint8Array
}

/** Deterministic pseudo-random bytes (xorshift32), so fixtures are the same on every run. */
export function pseudoRandomBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 0xff
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 0xff
    if (i + 3 < size) out[i + 3] = (x >>> 24) & 0xff
  }
  return out
}

/**
 * A UnixFS file DAG as Kubo/Helia build it (balanced, fixed-size chunks, raw leaves by default),
 * made with @helia/unixfs, the client's own importer.
 */
export async function createUnixfsFixture(init: {
  size: number
  chunkSize?: number
  rawLeaves?: boolean
  seed?: number
}): Promise<UnixfsFixture> {
  const blockstore = new MemoryBlockstore()
  const helia = createHeliaLight({ blockstore, datastore: new MemoryDatastore() })
  const bytes = pseudoRandomBytes(init.size, init.seed)
  const root = await unixfs(helia).addBytes(bytes, {
    rawLeaves: init.rawLeaves ?? true,
    chunker: fixedSize({ chunkSize: init.chunkSize ?? 256 * 1024 })
  })
  const blocks: UnixfsFixture['blocks'] = []
  const seen = new Set<string>()
  const visit = async (cid: CID): Promise<void> => {
    const key = cid.toString()
    if (seen.has(key)) return
    seen.add(key)
    const block = await collect(blockstore.get(cid))
    blocks.push({ cid, bytes: block })
    if (cid.code === dagPb.code) {
      for (const link of dagPb.decode(block).Links) await visit(link.Hash)
    }
  }
  await visit(root)
  return { root, bytes, blocks, car: await carOf(root, blocks) }
}

/** A CARv1 of the given blocks, in the given order. */
export async function carOf(root: CID, blocks: Iterable<{ cid: CID; bytes: Uint8Array }>): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create([root])
  const chunks: Uint8Array[] = []
  const reading = (async () => {
    for await (const chunk of out) chunks.push(chunk)
  })()
  for (const block of blocks) await writer.put(block)
  await writer.close()
  await reading
  return Buffer.concat(chunks)
}

async function collect(
  value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array> | Promise<Uint8Array>
): Promise<Uint8Array> {
  const v = await value
  if (v instanceof Uint8Array) return v
  const parts: Uint8Array[] = []
  for await (const part of v) parts.push(part)
  return Buffer.concat(parts)
}
