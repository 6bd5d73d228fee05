import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '@autoretrieve/interface'
import postgres from 'postgres'
import { DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_LISTEN_RETRY_MAX_MS } from './constants.ts'
import { StoreUnavailableError } from './errors.ts'
import { POLICY_CHANNEL } from './repositories/policy.ts'

export interface ChangeFeed {
  /** Called with each new policy version (increasing; a version is reported once). */
  subscribe(listener: (version: number) => void): () => void
  start(): Promise<void>
  stop(): Promise<void>
}

export interface ChangeFeedDeps {
  /** PostgreSQL URL: LISTEN on a dedicated connection. Without one (PGlite) the feed is in-process. */
  url?: string
  currentVersion: () => Promise<number>
  logger?: Logger
  retryMaxMs?: number
}

/**
 * Tells listeners about new policy versions. Changes made through this process are announced at
 * once (`local`); with PostgreSQL, LISTEN on a dedicated connection brings every other instance's.
 *
 * postgres-js's own `listen()` re-LISTENs once after a dropped connection and gives up silently
 * if that one attempt fails, so a longer outage would leave the feed deaf for good. We hold the
 * connection ourselves and retry with backoff until it is back, then report the current version:
 * a change made while we were cut off is not missed.
 *
 * Versions are reported only when higher than the last one reported: policy applies commit in
 * version order (an advisory lock in `apply`), so a lower one arriving late is already covered.
 */
export function createChangeFeed(deps: ChangeFeedDeps): ChangeFeed & { local(version: number): void } {
  const listeners = new Set<(version: number) => void>()
  const retryMaxMs = deps.retryMaxMs ?? DEFAULT_LISTEN_RETRY_MAX_MS
  let client: postgres.Sql | undefined
  let running = false
  let relistening: Promise<void> | undefined
  /** Set by every close: a close that lands while we re-LISTEN makes the loop go round again. */
  let closedSinceListen = false
  let lastReported = 0
  /** Aborted by stop(): cuts short the wait between LISTEN retries. */
  let stopping = new AbortController()

  const emit = (version: number) => {
    if (!Number.isInteger(version) || version <= lastReported) return
    lastReported = version
    for (const l of listeners) {
      try {
        l(version)
      } catch (err) {
        deps.logger?.warn({ err }, 'policy change listener failed')
      }
    }
  }

  const listen = async (sql: postgres.Sql) => {
    await sql.unsafe(`listen "${POLICY_CHANNEL}"`)
  }

  const relisten = () => {
    if (relistening !== undefined || !running) return
    relistening = (async () => {
      let delay = 100
      for (let attempt = 1; running && client !== undefined; attempt++) {
        closedSinceListen = false
        try {
          await listen(client)
          emit(await deps.currentVersion())
          if (closedSinceListen) continue
          deps.logger?.info({ attempt }, 'policy change feed listening again')
          return
        } catch (err) {
          if (attempt === 1 || attempt % 20 === 0)
            deps.logger?.warn({ err: (err as Error).message, attempt }, 'policy change feed cannot LISTEN; retrying')
          await sleep(delay, undefined, { signal: stopping.signal }).catch(() => {}) // stop() ends the loop
          delay = Math.min(retryMaxMs, delay * 2)
        }
      }
    })().finally(() => {
      relistening = undefined
    })
  }

  return {
    local: emit,
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    async start() {
      if (deps.url === undefined || running) return
      running = true
      stopping = new AbortController()
      // `onnotify` is a postgres-js connection option (its own listen() uses it) missing from its types.
      const clientOptions: postgres.Options<Record<string, postgres.PostgresType>> & {
        onnotify(channel: string, payload: string): void
      } = {
        max: 1,
        idle_timeout: 0,
        max_lifetime: null,
        fetch_types: false,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT_S,
        onnotice: () => {},
        onnotify: (channel, payload) => {
          if (channel === POLICY_CHANNEL) emit(Number(payload))
        },
        onclose: () => {
          if (!running) return
          closedSinceListen = true
          deps.logger?.warn({}, 'policy change feed connection closed; reconnecting')
          relisten()
        }
      }
      client = postgres(deps.url, clientOptions)
      try {
        await listen(client)
        emit(await deps.currentVersion())
      } catch (err) {
        running = false
        await client.end({ timeout: 1 }).catch(() => {})
        client = undefined
        throw new StoreUnavailableError(`cannot LISTEN for policy changes: ${(err as Error).message}`, { cause: err })
      }
    },
    async stop() {
      if (!running) return
      running = false
      stopping.abort()
      await relistening?.catch(() => {})
      const c = client
      client = undefined
      await c?.end({ timeout: 1 }).catch(() => {})
    }
  }
}
