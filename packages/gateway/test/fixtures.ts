import { blockLinks } from '@autoretrieve/dag'
import { pseudoRandomBytes } from '@autoretrieve/testkit'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import type { CID } from 'multiformats/cid'

export interface Dag {
  root: CID
  /** Every block once, in DFS order. */
  blocks: Array<{ cid: CID; bytes: Uint8Array }>
  /** Each imported entry's CID by its path. */
  entries: Map<string, CID>
}

/**
 * Imports files with the reference UnixFS importer (the one Helia and Kubo-compatible tools use):
 * plain or HAMT-sharded directories (`shard: true` shards every directory), 1 KiB chunks.
 */
export async function importDag(
  files: Array<{ path: string; content: Uint8Array }>,
  options: { shard?: boolean; wrap?: boolean; chunkSize?: number } = {}
): Promise<Dag> {
  const store = new MemoryBlockstore()
  const entries = new Map<string, CID>()
  let root: CID | undefined
  for await (const entry of importer(files, store, {
    rawLeaves: true,
    wrapWithDirectory: options.wrap ?? false,
    chunker: fixedSize({ chunkSize: options.chunkSize ?? 1024 }),
    shardSplitThresholdBytes: options.shard ? 1 : 256 * 1024
  })) {
    entries.set(entry.path ?? '', entry.cid)
    root = entry.cid
  }
  if (root === undefined) throw new Error('nothing imported')
  const blocks: Dag['blocks'] = []
  const seen = new Set<string>()
  const visit = async (cid: CID): Promise<void> => {
    if (seen.has(cid.toString())) return
    seen.add(cid.toString())
    const bytes = await collect(store.get(cid))
    blocks.push({ cid, bytes })
    for (const link of blockLinks(cid, bytes)) await visit(link)
  }
  await visit(root)
  return { root, blocks, entries }
}

/** A file whose chunks are all alike (zeros), so its root links to one leaf many times: dups show. */
export async function repeatedChunks(chunks: number, chunkSize = 1024): Promise<Dag> {
  return importDag([{ path: 'zeros', content: new Uint8Array(chunks * chunkSize) }], { chunkSize })
}

export function text(seed: number, size = 3000): Uint8Array {
  return pseudoRandomBytes(size, seed)
}

async function collect(v: unknown): Promise<Uint8Array> {
  const value = await v
  if (value instanceof Uint8Array) return value
  const parts: Uint8Array[] = []
  for await (const p of value as AsyncIterable<Uint8Array>) parts.push(p)
  return Buffer.concat(parts)
}
