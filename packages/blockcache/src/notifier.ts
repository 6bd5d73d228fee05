import type { AbortOptions, Logger } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'
import { AwaitTimeoutError } from './errors.ts'

interface Waiter {
  resolve(bytes: Uint8Array): void
  reject(err: Error): void
}

export interface WaitOptions extends AbortOptions {
  timeoutMs: number
}

/**
 * What may already be here once a waiter is registered: bytes, a read to wait for (its undefined
 * says nothing), or nothing.
 */
export type Recheck = () => Uint8Array | Promise<Uint8Array | undefined> | undefined

/**
 * Await and notify: callers waiting for a block by key (Bitswap wants for blocks a retrieval is
 * fetching), listeners for every new block and every corrupt one. Plain data, no I/O: the cache
 * says when a block arrived or failed verification.
 */
export class BlockNotifier {
  private readonly logger: Logger
  private readonly waiters = new Map<string, Set<Waiter>>()
  private readonly blockListeners = new Set<(cid: CID, bytes: Uint8Array) => void>()
  private readonly corruptListeners = new Set<(cid: CID) => void>()

  constructor(components: { logger: Logger }) {
    this.logger = components.logger
  }

  /** Callers waiting now. */
  get awaiting(): number {
    let n = 0
    for (const set of this.waiters.values()) n += set.size
    return n
  }

  onBlock(listener: (cid: CID, bytes: Uint8Array) => void): () => void {
    this.blockListeners.add(listener)
    return () => this.blockListeners.delete(listener)
  }

  onCorrupt(listener: (cid: CID) => void): () => void {
    this.corruptListeners.add(listener)
    return () => this.corruptListeners.delete(listener)
  }

  /** A verified block arrived: its waiters get it, then every listener hears of it. */
  block(key: string, cid: CID, bytes: Uint8Array): void {
    const waiting = this.waiters.get(key)
    this.waiters.delete(key)
    if (waiting) for (const w of waiting) w.resolve(bytes)
    this.emit(this.blockListeners, cid, bytes)
  }

  corrupt(cid: CID): void {
    this.emit(this.corruptListeners, cid)
  }

  /**
   * Waits for the block under `key`, at most `timeoutMs` (AwaitTimeoutError) and until the signal
   * aborts (its reason). `recheck` runs once the waiter is registered: the block may have landed
   * while the caller looked it up, or be on its way to disk now.
   */
  wait(key: string, cid: CID, options: WaitOptions, recheck: Recheck): Promise<Uint8Array> {
    const { signal, timeoutMs } = options
    return new Promise<Uint8Array>((resolve, reject) => {
      let set = this.waiters.get(key)
      if (set === undefined) {
        set = new Set()
        this.waiters.set(key, set)
      }
      const cleanup = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const s = this.waiters.get(key)
        s?.delete(waiter)
        if (s?.size === 0) this.waiters.delete(key)
      }
      const waiter: Waiter = {
        resolve: (bytes) => {
          cleanup()
          resolve(bytes)
        },
        reject: (err) => {
          cleanup()
          reject(err)
        }
      }
      const onAbort = () => waiter.reject(signal?.reason ?? new DOMException('aborted', 'AbortError'))
      const timer = setTimeout(
        () => waiter.reject(new AwaitTimeoutError(`no block ${cid} within ${timeoutMs} ms`)),
        timeoutMs
      )
      timer.unref()
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      set.add(waiter)
      const present = recheck()
      if (present instanceof Uint8Array) waiter.resolve(present)
      else present?.then((b) => (b ? waiter.resolve(b) : undefined), waiter.reject)
    })
  }

  /** Every waiter is rejected with `err` (the cache stopped). */
  rejectAll(err: Error): void {
    const all = [...this.waiters.values()]
    this.waiters.clear()
    for (const set of all) for (const w of set) w.reject(err)
  }

  private emit<A extends unknown[]>(listeners: Set<(...a: A) => void>, ...args: A): void {
    for (const l of listeners) {
      try {
        l(...args)
      } catch (err) {
        this.logger.warn({ err }, 'block cache listener failed')
      }
    }
  }
}
