import { type AbortOptions, multihashKey } from '@autoretrieve/interface'
import { LRUCache } from 'lru-cache'
import type { CID } from 'multiformats/cid'
import {
  DEFAULT_MAX_CONCURRENT_LOOKUPS,
  DEFAULT_MAX_QUEUED_LOOKUPS,
  DEFAULT_NEGATIVE_MAX_ENTRIES,
  DEFAULT_NEGATIVE_TTL_MS
} from './constants.ts'
import { LookupQueueFullError } from './errors.ts'
import type { Candidate, CandidateSource } from './types.ts'

export interface LookupGuardInit {
  /** How long a CID the source knew nothing about is answered empty without asking. 0 = never remembered. @default 60000 (DEFAULT_NEGATIVE_TTL_MS) */
  negativeTtlMs?: number
  /** CIDs remembered as unknown. @default 10000 (DEFAULT_NEGATIVE_MAX_ENTRIES) */
  negativeMaxEntries?: number
  /** Lookups in flight at once. @default 8 (DEFAULT_MAX_CONCURRENT_LOOKUPS) */
  maxConcurrent?: number
  /** Lookups waiting for a slot; past this `find` throws LookupQueueFullError. @default 512 (DEFAULT_MAX_QUEUED_LOOKUPS) */
  maxQueued?: number
}

export interface LookupGuardStats {
  /** Lookups the wrapped source was asked to make. */
  lookups: number
  /** Finds answered from the negative cache. */
  negativeHits: number
  /** Finds that joined a lookup already in flight for the same multihash. */
  joined: number
  /** Finds refused because the queue was full. */
  refused: number
  /** Lookups running and waiting now. */
  active: number
  queued: number
}

export interface GuardedSource extends CandidateSource {
  stats(): LookupGuardStats
}

/** One lookup, shared by every find of its multihash while it runs. */
interface Shared {
  promise: Promise<{ found: Candidate[]; error?: unknown }>
  controller: AbortController
  waiters: number
}

/**
 * Wraps a candidate source so that wants for missing content cost the indexer little: a CID the
 * source answered with no candidate (and no error) is remembered for a short while and answered
 * empty at once; concurrent finds of one multihash share one lookup; at most `maxConcurrent`
 * lookups run, `maxQueued` more wait, and the rest fail at once with LookupQueueFullError. A lookup
 * that failed (unreachable, 5xx, garbage) is never remembered: the next find asks again. Candidates
 * are collected before they are yielded (the retriever reads the whole answer anyway); a failure
 * after some were found yields those, then throws.
 */
export function createLookupGuard(source: CandidateSource, init: LookupGuardInit = {}): GuardedSource {
  const ttl = init.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS
  const maxConcurrent = init.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_LOOKUPS
  const maxQueued = init.maxQueued ?? DEFAULT_MAX_QUEUED_LOOKUPS
  for (const [name, value] of Object.entries({ ttl, maxConcurrent, maxQueued })) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`lookup guard: ${name} must be >= 0, got ${value}`)
  }
  if (maxConcurrent < 1) throw new RangeError('lookup guard: maxConcurrent must be >= 1')
  // A TTL of 0 means "do not remember" here; to lru-cache it would mean "forever".
  const negative =
    ttl > 0
      ? new LRUCache<string, true>({ max: init.negativeMaxEntries ?? DEFAULT_NEGATIVE_MAX_ENTRIES, ttl })
      : undefined
  const inflight = new Map<string, Shared>()
  const waiting: Array<() => void> = []
  const counters = { lookups: 0, negativeHits: 0, joined: 0, refused: 0 }
  let active = 0

  async function slot(signal: AbortSignal): Promise<void> {
    if (active < maxConcurrent) {
      active++
      return
    }
    if (waiting.length >= maxQueued) {
      counters.refused++
      throw new LookupQueueFullError(
        `${active} indexer lookups are running and ${waiting.length} waiting (the most this node queues)`
      )
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const i = waiting.indexOf(go)
        if (i >= 0) waiting.splice(i, 1)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      waiting.push(go)
    })
  }

  function release(): void {
    const next = waiting.shift()
    // The slot passes straight to the next waiter: `active` stays the same.
    if (next) next()
    else active--
  }

  function start(key: string, cid: CID): Shared {
    const controller = new AbortController()
    const shared: Shared = { controller, waiters: 0, promise: undefined as never }
    shared.promise = (async () => {
      const found: Candidate[] = []
      try {
        await slot(controller.signal)
      } catch (error) {
        return { found, error }
      }
      counters.lookups++
      try {
        for await (const c of source.find(cid, { signal: controller.signal })) found.push(c)
      } catch (error) {
        return { found, error }
      } finally {
        release()
      }
      if (found.length === 0) negative?.set(key, true)
      return { found }
    })().finally(() => {
      if (inflight.get(key) === shared) inflight.delete(key)
    })
    inflight.set(key, shared)
    return shared
  }

  /** The shared lookup's answer, or the caller's abort; the lookup is aborted when its last waiter leaves. */
  function wait(shared: Shared, signal: AbortSignal | undefined): Promise<{ found: Candidate[]; error?: unknown }> {
    shared.waiters++
    if (signal === undefined) return shared.promise
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (--shared.waiters === 0) shared.controller.abort(signal.reason)
        reject(signal.reason)
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      shared.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  return {
    async *find(cid: CID, options: AbortOptions = {}) {
      options.signal?.throwIfAborted()
      const key = multihashKey(cid)
      if (negative?.has(key)) {
        counters.negativeHits++
        return
      }
      let shared = inflight.get(key)
      // One whose waiters all left is ending with their abort: start afresh rather than join it.
      if (shared === undefined || shared.controller.signal.aborted) shared = start(key, cid)
      else counters.joined++
      const { found, error } = await wait(shared, options.signal)
      yield* found
      if (error !== undefined) throw error
    },
    stats: () => ({ ...counters, active, queued: waiting.length })
  }
}
