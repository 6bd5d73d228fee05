import { LRUCache } from 'lru-cache'
import {
  DEFAULT_MAX_PENDING_BYTES_PER_PEER,
  DEFAULT_PAUSE_PENDING_BYTES_PER_PEER,
  DEFAULT_RECENT_BYTES_PER_PEER
} from './constants.ts'

/**
 * The blocks one responder sent us, keyed by multihash: those no traversal has consumed yet
 * (`pending`, bounded: a responder runs a few messages ahead of our walk, past the bound it is
 * flooding us) and a byte-bounded LRU of recently consumed ones. go-graphsync sends a block once
 * per peer across all our requests and marks it "present" in the others, so a second request may
 * need a block the first one already took. Plain data: the requester feeds it and asks it; the
 * waiters let a traversal sleep until a message arrives instead of polling.
 */
export class ReceivedBlocks {
  /** Requests in progress with this peer: the store lives as long as one does. */
  requests = 0
  readonly #pending = new Map<string, Uint8Array>()
  #pendingBytes = 0
  readonly #recent = new LRUCache<string, Uint8Array>({
    maxSize: DEFAULT_RECENT_BYTES_PER_PEER,
    // lru-cache wants a positive size; an empty block still takes an entry.
    sizeCalculation: (bytes) => Math.max(1, bytes.byteLength)
  })
  readonly #waiters = new Set<() => void>()
  /** Resolved when the pending bytes fall to half the pause bound, or the store is released. */
  #caughtUp: { promise: Promise<void>; resolve: () => void } | undefined

  /** Keeps a received block until a traversal takes it (a second copy is ignored). */
  add(key: string, bytes: Uint8Array): void {
    if (this.#pending.has(key)) return
    this.#pending.set(key, bytes)
    this.#pendingBytes += bytes.byteLength
  }

  /** True once the blocks no traversal has reached are over DEFAULT_MAX_PENDING_BYTES_PER_PEER. */
  get flooded(): boolean {
    return this.#pendingBytes > DEFAULT_MAX_PENDING_BYTES_PER_PEER
  }

  /** A block by multihash key: a pending one moves to the recent set; undefined when neither holds it. */
  take(key: string): Uint8Array | undefined {
    const pending = this.#pending.get(key)
    if (pending === undefined) return this.#recent.get(key)
    this.#pending.delete(key)
    this.#pendingBytes -= pending.byteLength
    this.#recent.set(key, pending)
    if (this.#caughtUp !== undefined && this.#pendingBytes <= DEFAULT_PAUSE_PENDING_BYTES_PER_PEER / 2) this.release()
    return pending
  }

  /**
   * While the blocks no traversal has reached are over DEFAULT_PAUSE_PENDING_BYTES_PER_PEER, a
   * promise that resolves once our walk has taken them down to half that (or the store is
   * released): the receiving stream stops reading until then. undefined when no pause is due.
   */
  backpressure(): Promise<void> | undefined {
    if (this.#caughtUp !== undefined) return this.#caughtUp.promise
    if (this.#pendingBytes <= DEFAULT_PAUSE_PENDING_BYTES_PER_PEER) return undefined
    let resolve: () => void = () => {}
    const promise = new Promise<void>((r) => {
      resolve = r
    })
    this.#caughtUp = { promise, resolve }
    return promise
  }

  /** Ends any pause: the walk caught up, or the last request with this peer ended. */
  release(): void {
    const caughtUp = this.#caughtUp
    this.#caughtUp = undefined
    caughtUp?.resolve()
  }

  /** Resolves when a message arrives (or `wake` is called), or after `ms` at most. */
  waitForArrival(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#waiters.add(done)
    })
  }

  /** Wakes every traversal waiting on this peer's blocks (a message arrived, or one was aborted). */
  wake(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }
}
