import { DEFAULT_RATE_LIMITER_MAX_KEYS } from './constants.ts'

export interface RateLimiterInit {
  /** Tokens added per second to each key's bucket; 0 = no limit (every take succeeds). */
  ratePerSecond: number
  /** A bucket's capacity: how many takes a key that was idle may make at once. */
  burst: number
  /** Keys remembered; past this the least recently used is forgotten. @default 10000 (DEFAULT_RATE_LIMITER_MAX_KEYS) */
  maxKeys?: number
  /** The clock, in milliseconds (tests pass their own). @default Date.now */
  now?: () => number
}

/**
 * Token buckets keyed by an opaque string: a peer ID for Bitswap, a client address for HTTP. The
 * state does not belong to a connection, so a peer that reconnects finds its bucket as it left it.
 */
export interface RateLimiter {
  /** Takes one token from `key`'s bucket; false (and nothing taken) when it is empty. */
  tryTake(key: string): boolean
  /** Tokens `key` could take now (the burst for a key not seen). */
  available(key: string): number
  /** Keys remembered now (bounded by `maxKeys`). */
  readonly size: number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * A bucket refills at `ratePerSecond` up to `burst`. A bucket idle long enough to be full again is
 * the same as no bucket, so such keys are forgotten as they are met at the old end of the map
 * (insertion order is recency order: a take moves its key to the end). Past `maxKeys` the least
 * recently used key is forgotten even if not full: memory stays bounded whatever the number of
 * distinct keys, at the cost of a fresh burst for a key that had been idle longest.
 */
export function createRateLimiter(init: RateLimiterInit): RateLimiter {
  const { ratePerSecond, burst } = init
  if (!Number.isFinite(ratePerSecond) || ratePerSecond < 0)
    throw new RangeError(`rate limiter: ratePerSecond must be >= 0, got ${ratePerSecond}`)
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`rate limiter: burst must be >= 1, got ${burst}`)
  const maxKeys = init.maxKeys ?? DEFAULT_RATE_LIMITER_MAX_KEYS
  if (!Number.isInteger(maxKeys) || maxKeys < 1)
    throw new RangeError(`rate limiter: maxKeys must be >= 1, got ${maxKeys}`)
  const now = init.now ?? Date.now
  const buckets = new Map<string, Bucket>()
  /** How long an emptied bucket takes to fill again. */
  const refillMs = ratePerSecond > 0 ? (burst / ratePerSecond) * 1000 : 0

  const level = (bucket: Bucket, t: number) => Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * ratePerSecond)

  function evictIdle(t: number): void {
    // A few at a time from the old end: O(1) amortised per take.
    for (let i = 0; i < 4; i++) {
      const first = buckets.entries().next()
      if (first.done) return
      const [key, bucket] = first.value
      if (t - bucket.at < refillMs) return
      buckets.delete(key)
    }
  }

  return {
    tryTake(key) {
      if (ratePerSecond === 0) return true
      const t = now()
      evictIdle(t)
      const bucket = buckets.get(key)
      const tokens = bucket === undefined ? burst : level(bucket, t)
      if (tokens < 1) {
        // Refused: the bucket is left as it was (its time unchanged, so it goes on refilling).
        return false
      }
      buckets.delete(key)
      buckets.set(key, { tokens: tokens - 1, at: t })
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string)
      return true
    },
    available(key) {
      if (ratePerSecond === 0) return Number.POSITIVE_INFINITY
      const bucket = buckets.get(key)
      return Math.floor(bucket === undefined ? burst : level(bucket, now()))
    },
    get size() {
      return buckets.size
    }
  }
}
