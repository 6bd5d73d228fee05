import type { AbortOptions, Logger } from '@autoretrieve/interface'
import { DEFAULT_MINER_CACHE_TTL_MS, DEFAULT_MINER_MAX_RETRY_MS, DEFAULT_MINER_RETRY_MS } from './constants.ts'
import type { MinerResolver } from './types.ts'

/** What the book knows of one address: a peer ID (maybe from before the last failure), an error, or both. */
export interface MinerLookup {
  peerId?: string
  /** When Lotus last answered with the peer ID (ms since the epoch). */
  resolvedAt?: number
  /** The last failure's message, cleared by the next answer. */
  error?: string
}

export interface MinerAddressBookInit {
  /** How long an answer is used before it is asked again. @default 3600000 (DEFAULT_MINER_CACHE_TTL_MS) */
  ttlMs?: number
  /** First retry of a failed lookup; doubles each time. @default 5000 (DEFAULT_MINER_RETRY_MS) */
  retryMs?: number
  /** Cap on the retry delay. @default 60000 (DEFAULT_MINER_MAX_RETRY_MS) */
  maxRetryMs?: number
}

/** Running totals, read by the metrics at scrape time. */
export interface MinerAddressBookStats {
  /** Lookups Lotus answered with a peer ID. */
  resolved: number
  /** Lookups that failed: Lotus unreachable, or an error from it. */
  failed: number
  /** Watched addresses with no peer ID yet. */
  unresolved: number
}

/**
 * Keeps a set of miner addresses resolved to peer IDs through Lotus, in the background: each is
 * looked up when first watched, again when its answer is older than the TTL, and after a failure
 * with a growing delay until Lotus answers. A failed refresh keeps the previous peer ID (a
 * miner's peer ID rarely changes; dropping it would open a deny list). Never throws to its
 * callers: failures are logged once per address and state change, and counted.
 */
export interface MinerAddressBook {
  /**
   * Sets the addresses to keep resolved (others are forgotten). Resolves once every address new
   * to the book has had its first answer or failure, or after `waitMs` (or the signal), whichever
   * comes first: lookups go on in the background either way.
   */
  watch(addresses: Iterable<string>, options?: AbortOptions & { waitMs?: number }): Promise<void>
  current(): ReadonlyMap<string, MinerLookup>
  stats(): MinerAddressBookStats
  /** Called after any lookup changed what current() returns. */
  subscribe(listener: () => void): () => void
  /** Stops every timer; lookups in flight are abandoned. */
  stop(): void
}

interface Slot {
  lookup: MinerLookup
  failures: number
  timer?: NodeJS.Timeout
  first: Promise<void>
  controller: AbortController
}

export function createMinerAddressBook(
  components: { resolver: MinerResolver; logger?: Logger },
  init: MinerAddressBookInit = {}
): MinerAddressBook {
  const { resolver, logger } = components
  const totals = { resolved: 0, failed: 0 }
  const ttl = init.ttlMs ?? DEFAULT_MINER_CACHE_TTL_MS
  const retry = init.retryMs ?? DEFAULT_MINER_RETRY_MS
  const maxRetry = init.maxRetryMs ?? DEFAULT_MINER_MAX_RETRY_MS
  const slots = new Map<string, Slot>()
  const listeners = new Set<() => void>()
  let stopped = false

  const notify = () => {
    for (const listener of listeners) {
      try {
        listener()
      } catch (err) {
        logger?.warn({ err }, 'a miner address listener failed')
      }
    }
  }

  const schedule = (address: string, slot: Slot, delayMs: number) => {
    clearTimeout(slot.timer)
    if (stopped || slots.get(address) !== slot) return
    slot.timer = setTimeout(() => void lookup(address, slot), delayMs)
    // Background upkeep never keeps the process alive.
    slot.timer.unref?.()
  }

  const lookup = async (address: string, slot: Slot): Promise<void> => {
    try {
      const peer = await resolver.resolve(address, { signal: slot.controller.signal })
      if (slots.get(address) !== slot) return
      const changed = slot.lookup.peerId !== peer.peerId || slot.lookup.error !== undefined
      if (slot.failures > 0 || slot.lookup.peerId === undefined)
        logger?.info({ miner: address, peerId: peer.peerId }, 'miner address resolved')
      slot.lookup = { peerId: peer.peerId, resolvedAt: Date.now() }
      slot.failures = 0
      totals.resolved++
      schedule(address, slot, ttl)
      if (changed) notify()
    } catch (err) {
      if (slots.get(address) !== slot || slot.controller.signal.aborted) return
      const message = (err as Error).message
      // Once per address and outage, not on every retry.
      if (slot.failures === 0)
        logger?.warn(
          { miner: address, err: message, keeping: slot.lookup.peerId },
          slot.lookup.peerId === undefined
            ? 'miner address unresolved: Lotus lookup failed, retrying in the background'
            : 'miner address refresh failed: keeping its last peer ID, retrying in the background'
        )
      slot.failures++
      totals.failed++
      const changed = slot.lookup.error !== message
      slot.lookup = { ...slot.lookup, error: message }
      schedule(address, slot, Math.min(maxRetry, retry * 2 ** (slot.failures - 1)))
      if (changed) notify()
    }
  }

  return {
    async watch(addresses, options = {}) {
      const wanted = new Set(addresses)
      let removed = false
      for (const [address, slot] of slots) {
        if (wanted.has(address)) continue
        clearTimeout(slot.timer)
        slot.controller.abort()
        slots.delete(address)
        removed = true
      }
      const firsts: Promise<void>[] = []
      for (const address of wanted) {
        const known = slots.get(address)
        // Still waiting for its first answer (watched a moment ago without waiting): wait for it too.
        if (known !== undefined && known.lookup.peerId === undefined && known.lookup.error === undefined)
          firsts.push(known.first)
        if (known !== undefined || stopped) continue
        const slot: Slot = {
          lookup: {},
          failures: 0,
          controller: new AbortController(),
          first: Promise.resolve()
        }
        slots.set(address, slot)
        slot.first = lookup(address, slot)
        firsts.push(slot.first)
      }
      if (removed) notify()
      if (firsts.length === 0) return
      const bounds: Promise<unknown>[] = [Promise.all(firsts)]
      let timer: NodeJS.Timeout | undefined
      if (options.waitMs !== undefined) bounds.push(new Promise((r) => (timer = setTimeout(r, options.waitMs))))
      const signal = options.signal
      let onAbort: (() => void) | undefined
      if (signal !== undefined)
        bounds.push(
          new Promise<void>((r) => {
            onAbort = () => r()
            if (signal.aborted) r()
            else signal.addEventListener('abort', onAbort, { once: true })
          })
        )
      try {
        await Promise.race(bounds)
      } finally {
        clearTimeout(timer)
        if (onAbort) signal?.removeEventListener('abort', onAbort)
      }
    },
    stats: () => ({
      ...totals,
      unresolved: [...slots.values()].filter((s) => s.lookup.peerId === undefined).length
    }),
    current: () => new Map([...slots].map(([address, slot]) => [address, { ...slot.lookup }])),
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    stop() {
      stopped = true
      for (const slot of slots.values()) {
        clearTimeout(slot.timer)
        slot.controller.abort()
      }
      listeners.clear()
    }
  }
}
