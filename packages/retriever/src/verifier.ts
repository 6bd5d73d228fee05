import { blockLinks } from '@autoretrieve/dag'
import { multihashKey } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'
import { AttemptError } from './errors.ts'

/**
 * Checks that what a provider sends is the DAG we asked for, block by block, as it arrives.
 * Ordered (a DFS CAR): each block must be the next one the depth-first walk expects; blocks seen
 * before in this walk are skipped (dups=n) and a repeat is accepted (dups=y). Unordered (Bitswap,
 * where we pick the order): a block must be one the walk is waiting for. The intake checks each
 * block's hash before it gets here; this checks the shape.
 */
export class DagVerifier {
  private readonly ordered: boolean
  private readonly stack: CID[] = []
  private readonly pending = new Map<string, CID>()
  private readonly seen = new Set<string>()
  blocks = 0
  bytes = 0

  constructor(root: CID, ordered: boolean) {
    this.ordered = ordered
    if (ordered) this.stack.push(root)
    else this.pending.set(multihashKey(root), root)
  }

  /** Accepts the next block or throws AttemptError('unexpected_block'). Returns its links. */
  accept(cid: CID, bytes: Uint8Array): CID[] {
    const key = multihashKey(cid)
    if (this.ordered) {
      while (this.stack.length > 0 && this.seen.has(multihashKey(this.stack[this.stack.length - 1]))) this.stack.pop()
      if (this.seen.has(key)) return [] // a duplicate (dups=y): already verified
      const next = this.stack.pop()
      if (next === undefined || multihashKey(next) !== key) {
        throw new AttemptError(
          'unexpected_block',
          `block ${cid} is not the next block of the DAG walk (expected ${next ?? 'the end'})`
        )
      }
    } else {
      if (!this.pending.has(key)) {
        if (this.seen.has(key)) return []
        throw new AttemptError('unexpected_block', `block ${cid} was not asked for`)
      }
      this.pending.delete(key)
    }
    this.seen.add(key)
    this.blocks++
    this.bytes += bytes.byteLength
    let links: CID[]
    try {
      links = blockLinks(cid, bytes)
    } catch (cause) {
      throw new AttemptError('bad_block', (cause as Error).message, { cause })
    }
    if (this.ordered) {
      for (let i = links.length - 1; i >= 0; i--) this.stack.push(links[i])
    } else {
      for (const link of links) {
        const k = multihashKey(link)
        if (!this.seen.has(k)) this.pending.set(k, link)
      }
    }
    return links
  }

  /** What the walk still waits for (unordered mode), for requesting it. */
  waitingFor(): CID[] {
    return [...this.pending.values()]
  }

  get complete(): boolean {
    if (this.ordered) {
      while (this.stack.length > 0 && this.seen.has(multihashKey(this.stack[this.stack.length - 1]))) this.stack.pop()
      return this.stack.length === 0
    }
    return this.pending.size === 0
  }

  /** The next block the walk needs (for an "incomplete" error message). */
  get nextMissing(): CID | undefined {
    return this.ordered ? this.stack[this.stack.length - 1] : this.pending.values().next().value
  }
}
