import type { PolicySnapshot } from './types.ts'

export type PolicyListener = (next: PolicySnapshot, previous: PolicySnapshot) => void

/** Holds the current snapshot. Swapping is one reference assignment, so readers never see half a change. */
export interface PolicyHolder {
  current(): PolicySnapshot
  /** Installs `next` unless it is older than the current one; returns whether it was installed. */
  swap(next: PolicySnapshot): boolean
  /** Called after every swap; returns an unsubscribe function. */
  subscribe(listener: PolicyListener): () => void
}

export function createPolicyHolder(initial: PolicySnapshot): PolicyHolder {
  let snapshot = initial
  const listeners = new Set<PolicyListener>()
  return {
    current: () => snapshot,
    swap(next) {
      if (next.version < snapshot.version) return false
      const previous = snapshot
      snapshot = next
      // Listeners run after the swap, outside any lock-like section: one that throws must not
      // stop the others or undo the swap.
      for (const listener of listeners) {
        try {
          listener(next, previous)
        } catch {}
      }
      return true
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    }
  }
}
