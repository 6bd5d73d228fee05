import { blockLinks } from '@autoretrieve/dag'
import { multihashKey } from '@autoretrieve/interface'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import type { RequestBlocks } from './blocks.ts'
import { GatewayError } from './errors.ts'
import type { ByteRange, DagScope } from './request.ts'
import { type Block, decodePb, shardLabelLength } from './unixfs.ts'

/** How a block's links are followed: every link, a file's (within a byte range), a shard's sub-shards, none. */
type Mode = 'all' | 'file' | 'shard' | 'none'

interface Step {
  cid: CID
  mode: Mode
  /** For `file`: where this node's bytes start in the file. */
  offset: number
  prefetch?: Promise<Uint8Array | undefined>
}

export interface WalkPlan {
  terminal: Block
  scope: DagScope
  entityBytes?: ByteRange
  dups: boolean
  /** Blocks already sent (dups=n): the path blocks. */
  seen?: Set<string>
  readAhead: number
}

/** An inclusive byte range of a file of `size` bytes, resolved; 400 when wholly outside it. */
export function resolveRange(range: ByteRange, size: number): { from: number; to: number } {
  const from = range.from < 0 ? Math.max(0, size + range.from) : range.from
  const to = range.to === '*' ? size - 1 : range.to < 0 ? size + range.to : Math.min(range.to, size - 1)
  if (size > 0 && (from > size - 1 || to < from))
    throw new GatewayError(
      400,
      'ERR_BAD_REQUEST',
      `entity-bytes=${range.from}:${range.to} lies outside the ${size}-byte file`
    )
  return { from, to }
}

/**
 * The blocks of the terminal's DAG a CAR of this scope carries, in DFS order (children in link
 * order), the terminal first. dups=n sends each block once; identity blocks are walked but never
 * sent. Reads a few blocks ahead of the one being sent (cache only, never a retrieval), so one
 * disk read overlaps the write of the block before.
 */
export async function* scopeBlocks(plan: WalkPlan, blocks: RequestBlocks, signal: AbortSignal): AsyncGenerator<Block> {
  const { terminal } = plan
  let mode: Mode = plan.scope === 'block' ? 'none' : 'all'
  let range: { from: number; to: number } | undefined
  if (plan.scope === 'entity') {
    mode = 'none'
    if (terminal.cid.code === dagPb.code) {
      const unixfs = decodePb(terminal).unixfs
      if (unixfs?.type === 'file' || unixfs?.type === 'raw') {
        mode = 'file'
        if (plan.entityBytes !== undefined) range = resolveRange(plan.entityBytes, Number(unixfs.fileSize()))
      } else if (unixfs?.type === 'hamt-sharded-directory') mode = 'shard'
    } else if (terminal.cid.code === 0x55 && plan.entityBytes !== undefined) {
      // A raw block is a file of one block: still refuse a range outside it.
      resolveRange(plan.entityBytes, terminal.bytes.byteLength)
    }
  }
  const seen = plan.dups ? undefined : (plan.seen ?? new Set<string>())
  const stack: Step[] = [{ cid: terminal.cid, mode, offset: 0, prefetch: Promise.resolve(terminal.bytes) }]
  while (stack.length > 0) {
    signal.throwIfAborted()
    const step = stack.pop()!
    if (seen !== undefined) {
      const key = multihashKey(step.cid)
      if (seen.has(key)) continue
      seen.add(key)
    }
    const bytes = await blocks.get(step.cid, await step.prefetch)
    const block = { cid: step.cid, bytes }
    const children = childSteps(block, step, range)
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i])
    for (let i = stack.length - 1, n = 0; i >= 0 && n < plan.readAhead; i--, n++) {
      const next = stack[i]
      if (next.prefetch === undefined) {
        next.prefetch = blocks.local(next.cid).catch(() => undefined)
      }
    }
    if (step.cid.multihash.code !== identity.code) yield block
  }
}

function childSteps(block: Block, step: Step, range: { from: number; to: number } | undefined): Step[] {
  switch (step.mode) {
    case 'none':
      return []
    case 'all':
      return blockLinks(block.cid, block.bytes).map((cid) => ({ cid, mode: 'all', offset: 0 }))
    case 'shard': {
      const node = decodePb(block)
      if (node.unixfs === undefined) return []
      const label = shardLabelLength(node.unixfs)
      return node.links.filter((l) => l.Name?.length === label).map((l) => ({ cid: l.Hash, mode: 'shard', offset: 0 }))
    }
    case 'file': {
      if (block.cid.code !== dagPb.code) return []
      const node = decodePb(block)
      const sizes = node.unixfs?.blockSizes ?? []
      if (range === undefined || sizes.length !== node.links.length)
        return node.links.map((l) => ({ cid: l.Hash, mode: 'file', offset: 0 }))
      let start = step.offset + (node.unixfs?.data?.byteLength ?? 0)
      const out: Step[] = []
      node.links.forEach((l, i) => {
        const end = start + Number(sizes[i]) // exclusive
        if (end > range.from && start <= range.to) out.push({ cid: l.Hash, mode: 'file', offset: start })
        start = end
      })
      return out
    }
  }
}
