import { multihashKey } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'
import { blockLinks } from './links.ts'

export interface WalkStep {
  cid: CID
  /** undefined when the block source lacks it. */
  bytes: Uint8Array | undefined
  depth: number
}

/**
 * Walks a DAG depth-first from `root`, in the order a trustless CAR (order=dfs) and a graphsync
 * explore-all traversal carry it, visiting each block once (duplicates are skipped, as with
 * dups=n). A block the source lacks is yielded with `bytes: undefined` and its subtree is not
 * walked. Uses an explicit stack, so a deep DAG cannot overflow the call stack.
 */
export async function* walkDag(
  root: CID,
  getBlock: (cid: CID) => Promise<Uint8Array | undefined>,
  options: { signal?: AbortSignal } = {}
): AsyncGenerator<WalkStep> {
  const seen = new Set<string>()
  const stack: Array<{ cid: CID; depth: number }> = [{ cid: root, depth: 0 }]
  while (stack.length > 0) {
    options.signal?.throwIfAborted()
    const { cid, depth } = stack.pop()!
    const key = multihashKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const bytes = await getBlock(cid)
    yield { cid, bytes, depth }
    if (bytes === undefined) continue
    const links = blockLinks(cid, bytes)
    for (let i = links.length - 1; i >= 0; i--) stack.push({ cid: links[i], depth: depth + 1 })
  }
}

export interface DagCheck {
  root: string
  complete: boolean
  blocks: number
  bytes: number
  /** The first block the walk needed and the source lacked. */
  firstMissing: string | null
  missing: number
}

/** Walks the whole DAG and reports size, block count and the first missing block (for `check-cid`). */
export async function checkDag(
  root: CID,
  getBlock: (cid: CID) => Promise<Uint8Array | undefined>,
  options: { signal?: AbortSignal } = {}
): Promise<DagCheck> {
  const result: DagCheck = {
    root: root.toString(),
    complete: true,
    blocks: 0,
    bytes: 0,
    firstMissing: null,
    missing: 0
  }
  for await (const step of walkDag(root, getBlock, options)) {
    if (step.bytes === undefined) {
      result.complete = false
      result.missing++
      result.firstMissing ??= step.cid.toString()
      continue
    }
    result.blocks++
    result.bytes += step.bytes.byteLength
  }
  return result
}
