import { setImmediate, setTimeout as sleep } from 'node:timers/promises'
import { blockMatches } from '@autoretrieve/blockcache'
import { MAX_BLOCK_BYTES, MAX_BUFFERED_BYTES_PER_RETRIEVAL } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'
import { DEFAULT_CACHE_WRITES_IN_FLIGHT, YIELD_EVERY_MS } from './constants.ts'
import { AttemptError } from './errors.ts'
import type { AdapterBlock, RetrieverCache } from './types.ts'
import { DagVerifier } from './verifier.ts'

export interface IntakeInit {
  root: CID
  /** Blocks arrive in DFS order (a CAR), not in an order we asked for (see DagVerifier). */
  ordered: boolean
  /** Names the provider in error messages. */
  provider: string
  cache: Pick<RetrieverCache, 'put'>
  /** Aborts the throttle's waits. */
  signal?: AbortSignal
  /** Cap on bytes per second (0 = none), measured from `startedAt` (epoch ms). @default 0 */
  maxBytesPerSecond?: number
  startedAt?: number
  /** Cache writes let run while the stream is read on. @default 8 (DEFAULT_CACHE_WRITES_IN_FLIGHT) */
  writesInFlight?: number
  /** Bytes of those writes held at once. @default MAX_BUFFERED_BYTES_PER_RETRIEVAL (16 MiB) */
  maxBufferedBytes?: number
  /** The links of each verified block: a running retrieval announces them so wants for them join it. */
  onLinks?(links: CID[]): void
  /** After each block is verified and, unless `local`, its cache write started. */
  onBlock?(block: AdapterBlock): void
}

/**
 * One attempt's intake: every block from the adapter is checked against its CID (unless the
 * adapter made the CID from the bytes, `hashed`, or the cache gave it, `local`), then against the
 * DAG walk, then written to the cache, which announces it to waiting peers at once and writes it
 * to disk behind us (at most `writesInFlight` writes and `maxBufferedBytes` outstanding). Reading
 * stops as soon as the DAG is whole: what a provider sends after that (junk, a repeat) is never
 * read, and is no failure. A stream that ends before is `incomplete`. Failures are AttemptErrors:
 * `wrong_block`, `unexpected_block`, `bad_block`, `block_too_large`, `incomplete`; a failed cache
 * write is thrown as it is. Nothing is left writing when `take` settles.
 */
export class BlockIntake {
  private readonly init: IntakeInit
  private readonly verifier: DagVerifier
  /** Cache writes still running, oldest first. */
  private readonly writes: Array<{ done: Promise<boolean>; bytes: number }> = []
  private writingBytes = 0

  constructor(init: IntakeInit) {
    this.init = init
    this.verifier = new DagVerifier(init.root, init.ordered)
  }

  /** Blocks verified so far (local ones included). */
  get blocks(): number {
    return this.verifier.blocks
  }

  /** Bytes verified so far (local ones included). */
  get bytes(): number {
    return this.verifier.bytes
  }

  async take(source: AsyncIterable<AdapterBlock>): Promise<void> {
    const { cache, provider, onLinks, onBlock, signal } = this.init
    const maxBytesPerSecond = this.init.maxBytesPerSecond ?? 0
    const startedAt = this.init.startedAt ?? Date.now()
    const writesInFlight = this.init.writesInFlight ?? DEFAULT_CACHE_WRITES_IN_FLIGHT
    const maxBufferedBytes = this.init.maxBufferedBytes ?? MAX_BUFFERED_BYTES_PER_RETRIEVAL
    let lastYield = performance.now()
    try {
      for await (const block of source) {
        // Adapters bound what they read by the same limit; this holds for any adapter.
        if (!block.local && block.bytes.byteLength > MAX_BLOCK_BYTES) {
          throw new AttemptError(
            'block_too_large',
            `${provider} sent a block of ${block.bytes.byteLength} bytes, over the ${MAX_BLOCK_BYTES}-byte block limit`
          )
        }
        if (!block.local && !block.hashed && !blockMatches(block.cid, block.bytes)) {
          throw new AttemptError('wrong_block', `${provider} sent bytes that do not hash to ${block.cid}`)
        }
        const links = this.verifier.accept(block.cid, block.bytes)
        if (links.length > 0) onLinks?.(links)
        if (!block.local) {
          // Verified above (hashed, or its CID made from these bytes), walked just now: the cache
          // announces it at once and writes it behind us.
          const done = cache.put(block.cid, block.bytes, { hashChecked: true })
          done.catch(() => {}) // awaited below; a failure ends the attempt there
          this.writes.push({ done, bytes: block.bytes.byteLength })
          this.writingBytes += block.bytes.byteLength
          while (
            this.writes.length > 0 &&
            (this.writes.length >= writesInFlight || this.writingBytes > maxBufferedBytes)
          ) {
            const oldest = this.writes.shift()!
            this.writingBytes -= oldest.bytes
            await oldest.done
          }
        }
        onBlock?.(block)
        // The DAG is whole: read no further (the adapter's stream is closed by the loop's exit).
        if (this.verifier.complete) break
        if (performance.now() - lastYield >= YIELD_EVERY_MS) {
          // Let the node read its sockets (wants, window updates) between blocks.
          await setImmediate()
          lastYield = performance.now()
        }
        if (maxBytesPerSecond > 0) {
          const due = (this.verifier.bytes / maxBytesPerSecond) * 1000 - (Date.now() - startedAt)
          if (due > 0) await sleep(due, undefined, { signal })
        }
      }
      if (!this.verifier.complete) {
        throw new AttemptError('incomplete', `${provider} stopped before sending ${this.verifier.nextMissing}`)
      }
      await Promise.all(this.writes.map((w) => w.done))
    } finally {
      // nothing of this attempt is left writing
      await Promise.allSettled(this.writes.splice(0).map((w) => w.done))
      this.writingBytes = 0
    }
  }
}
