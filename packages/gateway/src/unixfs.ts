import { codecName } from '@autoretrieve/dag'
import * as dagPb from '@ipld/dag-pb'
import { murmur3128 } from '@multiformats/murmur3'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { GatewayError } from './errors.ts'

export interface Block {
  cid: CID
  bytes: Uint8Array
}

/** A dag-pb block's links and UnixFS data (undefined for dag-pb without UnixFS data). */
export interface PbNode {
  links: dagPb.PBLink[]
  unixfs: UnixFS | undefined
}

export function decodePb(block: Block): PbNode {
  let node: dagPb.PBNode
  try {
    node = dagPb.decode(block.bytes)
  } catch (cause) {
    throw new GatewayError(502, 'ERR_BAD_BLOCK', `${block.cid} does not decode as dag-pb`, { cause })
  }
  let unixfs: UnixFS | undefined
  if (node.Data !== undefined) {
    try {
      unixfs = UnixFS.unmarshal(node.Data)
    } catch {
      unixfs = undefined
    }
  }
  return { links: node.Links, unixfs }
}

const notFound = (message: string) => new GatewayError(404, 'ERR_NO_SUCH_PATH', message)

/** The shard's bucket width: fanout 256 → labels of 2 hex digits. */
export function shardLabelLength(unixfs: UnixFS): number {
  return (Number(unixfs.fanout ?? 256n) - 1).toString(16).length
}

/**
 * Follows `segments` from `root` through UnixFS directories, plain and HAMT-sharded, and returns
 * the blocks walked (the root and every directory or shard block on the way, in order) and the
 * terminal block. 404 (ERR_NO_SUCH_PATH) when a name is absent or a step is not a directory.
 */
export async function resolvePath(
  root: Block,
  segments: string[],
  get: (cid: CID) => Promise<Uint8Array>
): Promise<{ pathBlocks: Block[]; terminal: Block; roots: CID[] }> {
  const pathBlocks: Block[] = []
  const roots: CID[] = [root.cid]
  let current = root
  for (const name of segments) {
    if (current.cid.code !== dagPb.code)
      throw notFound(
        `${current.cid} is ${codecName(current.cid.code)}, not a UnixFS directory: cannot resolve "${name}"`
      )
    const node = decodePb(current)
    const type = node.unixfs?.type
    let next: CID
    if (type === 'directory') {
      pathBlocks.push(current)
      const link = node.links.find((l) => l.Name === name)
      if (link === undefined) throw notFound(`no "${name}" in directory ${current.cid}`)
      next = link.Hash
    } else if (type === 'hamt-sharded-directory') {
      next = await findInShard(current, node, name, get, pathBlocks)
    } else
      throw notFound(
        `${current.cid} is a UnixFS ${type ?? 'node without data'}, not a directory: cannot resolve "${name}"`
      )
    current = { cid: next, bytes: await get(next) }
    roots.push(next)
  }
  return { pathBlocks, terminal: current, roots }
}

/**
 * A name in a HAMT-sharded directory (UnixFS spec): the first 64 bits of murmur3-x64-128 of the
 * name, read most significant bit first, log2(fanout) bits per level, pick the bucket; a link
 * named by the bucket's label alone is a sub-shard, label + name is the entry. Every shard block
 * visited goes into `walked` (the CAR carries them).
 */
async function findInShard(
  shard: Block,
  node: PbNode,
  name: string,
  get: (cid: CID) => Promise<Uint8Array>,
  walked: Block[]
): Promise<CID> {
  const hash = (await murmur3128.encode(new TextEncoder().encode(name))).subarray(0, 8)
  let current = shard
  let currentNode = node
  let bitPos = 0
  for (;;) {
    walked.push(current)
    const unixfs = currentNode.unixfs
    if (unixfs?.type !== 'hamt-sharded-directory')
      throw new GatewayError(502, 'ERR_BAD_BLOCK', `${current.cid} is inside a HAMT shard but is not a shard`)
    const fanout = Number(unixfs.fanout ?? 256n)
    const bits = Math.log2(fanout)
    if (!Number.isInteger(bits) || bits < 1 || bits > 16)
      throw new GatewayError(502, 'ERR_BAD_BLOCK', `shard ${current.cid} has fanout ${fanout}, not a power of two`)
    if (bitPos + bits > 64) throw notFound(`no "${name}" in sharded directory ${shard.cid} (hash bits exhausted)`)
    const label = takeBits(hash, bitPos, bits).toString(16).toUpperCase().padStart(shardLabelLength(unixfs), '0')
    bitPos += bits
    const link = currentNode.links.find((l) => l.Name?.startsWith(label))
    if (link === undefined) throw notFound(`no "${name}" in sharded directory ${shard.cid}`)
    if (link.Name === label + name) return link.Hash
    if (link.Name !== label) throw notFound(`no "${name}" in sharded directory ${shard.cid}`)
    current = { cid: link.Hash, bytes: await get(link.Hash) }
    currentNode = decodePb(current)
  }
}

/** `count` bits of `bytes` from bit `pos`, most significant first. */
function takeBits(bytes: Uint8Array, pos: number, count: number): number {
  let out = 0
  for (let i = 0; i < count; i++) {
    const bit = pos + i
    out = (out << 1) | ((bytes[bit >> 3] >> (7 - (bit & 7))) & 1)
  }
  return out
}
