import { multihashKey } from '@autoretrieve/interface'
import type { CID } from 'multiformats/cid'

/** What a running retrieval sees of its own entry in the table. */
export interface Running {
  /** Aborted when the last waiter with a signal leaves. */
  readonly signal: AbortSignal
  /** The peers whose wants started or joined it (records "who asked"). */
  readonly requestedBy: ReadonlySet<string>
  /** It verified a block with these links: a want for one of them joins it instead of starting another. */
  expect(links: Iterable<CID>): void
}

interface Entry<T> extends Running {
  promise: Promise<T>
  readonly controller: AbortController
  readonly requestedBy: Set<string>
  waiters: number
  /** The keys this entry added to `expected`, removed with it (no scan of the whole map). */
  readonly expectedKeys: string[]
}

/**
 * The retrievals in flight, by root, and the blocks they are about to deliver (links of blocks
 * they verified), so that every want for a root, or for a child of a DAG being retrieved, waits
 * on one retrieval. A waiter that leaves (its signal aborts) is released at once; the retrieval
 * goes on while anyone else still waits and is aborted when the last one leaves. Keys are
 * multihashes: a CIDv0 and a CIDv1 of one block share a retrieval.
 */
export class RunningRetrievals<T> {
  private readonly byRoot = new Map<string, Entry<T>>()
  private readonly expected = new Map<string, Entry<T>>()

  /** Roots with a retrieval in flight. */
  get size(): number {
    return this.byRoot.size
  }

  /** Blocks that running retrievals are expected to deliver. */
  get expectedSize(): number {
    return this.expected.size
  }

  /** Whether a want for `cid` would join a retrieval in flight (as its root, or a block it has seen a link to). */
  covers(cid: CID): boolean {
    const key = multihashKey(cid)
    return this.byRoot.has(key) || this.expected.has(key)
  }

  /**
   * Waits for the retrieval that covers `cid`: the one running for it as a root, else one that has
   * seen a link to it, else a new one that `start` runs. Rejects with the signal's reason when
   * `options.signal` aborts first.
   */
  join(
    cid: CID,
    options: { signal?: AbortSignal; requestedBy?: string },
    start: (running: Running) => Promise<T>
  ): Promise<T> {
    const key = multihashKey(cid)
    let entry = this.byRoot.get(key) ?? this.expected.get(key)
    if (entry === undefined) {
      entry = this.create(key, options.requestedBy, start)
    } else if (options.requestedBy) entry.requestedBy.add(options.requestedBy)
    return this.wait(entry, options.signal)
  }

  private create(key: string, requestedBy: string | undefined, start: (running: Running) => Promise<T>): Entry<T> {
    const controller = new AbortController()
    const entry: Entry<T> = {
      promise: undefined as never,
      controller,
      signal: controller.signal,
      requestedBy: new Set(requestedBy ? [requestedBy] : []),
      waiters: 0,
      expectedKeys: [],
      expect: (links) => {
        for (const link of links) {
          const k = multihashKey(link)
          if (this.expected.has(k)) continue // the first retrieval to see a block keeps it
          this.expected.set(k, entry)
          entry.expectedKeys.push(k)
        }
      }
    }
    entry.promise = start(entry).finally(() => {
      this.byRoot.delete(key)
      for (const k of entry.expectedKeys) if (this.expected.get(k) === entry) this.expected.delete(k)
    })
    this.byRoot.set(key, entry)
    return entry
  }

  private wait(entry: Entry<T>, signal: AbortSignal | undefined): Promise<T> {
    entry.waiters++
    if (signal === undefined) return entry.promise
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        // This waiter leaves; the retrieval goes on while anyone else still waits for it.
        if (--entry.waiters === 0) entry.controller.abort(signal.reason)
        reject(signal.reason)
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      entry.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }
}
