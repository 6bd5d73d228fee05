import { QueueFullError } from './errors.ts'

/**
 * Counting semaphores by key (a provider) with a limit read at acquire time, so a policy change
 * applies to the next retrieval. Limit 0 = unlimited. Waiters queue in order and leave on abort.
 */
export class KeyedLimiter {
  private readonly active = new Map<string, number>()
  private readonly waiting = new Map<string, Array<{ limit: number; go: () => void }>>()

  inUse(key: string): number {
    return this.active.get(key) ?? 0
  }

  /** A slot now, or undefined when `key` is at its limit (nothing is queued). */
  tryAcquire(key: string, limit: number): (() => void) | undefined {
    const n = this.active.get(key) ?? 0
    if (limit > 0 && n >= limit) return undefined
    this.active.set(key, n + 1)
    return this.releaser(key)
  }

  /** Waiters queued for `key` now. */
  queued(key: string): number {
    return this.waiting.get(key)?.length ?? 0
  }

  /**
   * A slot of `key`'s `limit`; waits in order when they are all taken. With `maxQueued`, a caller
   * that would be waiter number `maxQueued + 1` is refused at once with a QueueFullError.
   */
  async acquire(key: string, limit: number, signal?: AbortSignal, maxQueued?: number): Promise<() => void> {
    const n = this.active.get(key) ?? 0
    if (limit <= 0 || n < limit) {
      this.active.set(key, n + 1)
      return this.releaser(key)
    }
    if (maxQueued !== undefined && this.queued(key) >= maxQueued) {
      throw new QueueFullError(
        `${n} retrievals are running and ${this.queued(key)} waiting (the most this node queues)`
      )
    }
    await new Promise<void>((resolve, reject) => {
      const queue = this.waiting.get(key) ?? []
      this.waiting.set(key, queue)
      const entry = {
        limit,
        go: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
      }
      const onAbort = () => {
        const q = this.waiting.get(key)
        const i = q?.indexOf(entry) ?? -1
        if (i >= 0) q!.splice(i, 1)
        reject(signal?.reason ?? new DOMException('aborted', 'AbortError'))
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      queue.push(entry)
    })
    return this.releaser(key)
  }

  private releaser(key: string): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const queue = this.waiting.get(key)
      const next = queue?.shift()
      if (queue?.length === 0) this.waiting.delete(key)
      // Hand the slot straight to the next waiter: the count stays the same.
      if (next) next.go()
      else {
        const n = (this.active.get(key) ?? 1) - 1
        if (n <= 0) this.active.delete(key)
        else this.active.set(key, n)
      }
    }
  }
}
