import type postgres from 'postgres'
import { POLICY_CHANNEL } from './repositories/policy.ts'
import type { Logger } from './types.ts'

export interface ChangeFeed {
  subscribe(listener: (version: number) => void): () => void
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * Tells listeners about new policy versions. Changes made through this process are announced
 * in-process at once (`local`); with PostgreSQL, LISTEN brings every other instance's changes too.
 * postgres-js re-establishes the LISTEN after an outage and calls `onlisten` again: we then ask
 * for the current version, so a change made while we were cut off is not missed.
 */
export function createChangeFeed(deps: {
  sql?: postgres.Sql
  currentVersion: () => Promise<number>
  logger?: Logger
}): ChangeFeed & { local(version: number): void } {
  const listeners = new Set<(version: number) => void>()
  let unlisten: (() => Promise<void>) | undefined
  const emit = (version: number) => {
    for (const l of listeners) {
      try {
        l(version)
      } catch (err) {
        deps.logger?.warn({ err }, 'policy change listener failed')
      }
    }
  }
  return {
    local: emit,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async start() {
      if (deps.sql === undefined || unlisten !== undefined) return
      let first = true
      const meta = await deps.sql.listen(
        POLICY_CHANNEL,
        (payload) => {
          const version = Number(payload)
          if (Number.isInteger(version)) emit(version)
        },
        () => {
          if (first) {
            first = false
            return
          }
          deps.logger?.info({}, 'policy change feed reconnected')
          deps
            .currentVersion()
            .then(emit)
            .catch((err) => deps.logger?.warn({ err }, 'could not read the policy version after reconnecting'))
        }
      )
      unlisten = () => meta.unlisten()
    },
    async stop() {
      const u = unlisten
      unlisten = undefined
      await u?.().catch(() => {})
    }
  }
}
