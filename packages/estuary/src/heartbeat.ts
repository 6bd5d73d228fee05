import type { AbortOptions, Logger } from '@autoretrieve/interface'
import { heartbeatUrl, redactUrl, sendHeartbeat } from './client.ts'
import { DEFAULT_ESTUARY_TIMEOUT_MS, MIN_HEARTBEAT_DELAY_MS } from './constants.ts'
import { HeartbeatDisabledError } from './errors.ts'

/** setTimeout's ceiling (about 24.8 days); a longer delay would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface HeartbeatInit {
  /** advertise-endpoint-url: Estuary's API base or the full heartbeat URL; empty = disabled. */
  endpoint: string
  /** advertise-endpoint-token: the bearer token Estuary gave at registration. */
  token: string
  /** heartbeat-interval: the delay before a retry after a failure. */
  retryIntervalMs: number
  /** Per-request bound; default DEFAULT_ESTUARY_TIMEOUT_MS. */
  timeoutMs?: number
}

export interface HeartbeatComponents {
  logger: Logger
  events?: { onBeat?(ok: boolean): void }
}

/** The heartbeat's state, as `GET /api/v1/heartbeat` shows it. Times are ISO 8601, null when none yet. */
export interface HeartbeatStatus {
  /** false when no `advertise-endpoint-url` is configured; every other field is then empty. */
  enabled: boolean
  /** disabled | pending (started, no answer yet) | ok | failing (the last beat failed) | stopped */
  state: HeartbeatState
  /** Why it is disabled, when it is. */
  reason: string | null
  /** The heartbeat URL (never the token). */
  endpoint: string | null
  /** The handle Estuary knows this node by, from its last answer. */
  handle: string | null
  lastSuccessAt: string | null
  lastError: { message: string; at: string } | null
  nextBeatAt: string | null
  /** Estuary's advertiseInterval from the last answer, as sent (Go duration) and in ms. */
  advertiseInterval: string | null
  advertiseIntervalMs: number | null
  /** When Estuary last advertised this node to IPNI (null: never, or not said). */
  lastAdvertisementAt: string | null
  /** heartbeat-interval: the delay before a retry after a failure. */
  retryIntervalMs: number | null
  beats: { succeeded: number; failed: number }
}

export type HeartbeatState = 'disabled' | 'pending' | 'ok' | 'failing' | 'stopped'

export interface Heartbeat {
  /** A copy of the current state. */
  status(): HeartbeatStatus
  /** Sends a heartbeat now (or joins the one in flight) and resolves with the new status. */
  beat(options?: AbortOptions): Promise<HeartbeatStatus>
  /** Sends the first beat at once (when enabled), then keeps beating until stop(). */
  start(): void
  /** Cancels the timer and any beat in flight. */
  stop(): Promise<void>
  /** New settings (config reload, register-estuary beside a running node): restarts when they changed. */
  configure(init: HeartbeatInit): Promise<void>
}

/**
 * The Estuary heartbeat (specs/estuary-autoretrieve.md §3): POST to `{advertise-endpoint-url}
 * /autoretrieve/heartbeat` with the bearer token, first at start, then after half of the
 * `advertiseInterval` Estuary answers (Estuary counts a node online while its last heartbeat is
 * younger than that interval); after a failure, again after `heartbeat-interval`. One beat at a
 * time: a beat asked for through the API while one is in flight joins it.
 */
export function createHeartbeat(components: HeartbeatComponents, init: HeartbeatInit): Heartbeat {
  const { logger, events } = components
  let settings = init
  let controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let inflight: Promise<void> | undefined
  /** start() was called and stop() not since (the node runs), whether or not an endpoint is set. */
  let started = false
  /** Started with an endpoint: beats are scheduled. */
  let running = false
  let current = freshStatus(settings)

  const url = () => heartbeatUrl(settings.endpoint)

  function schedule(ms: number): void {
    clearTimeout(timer)
    const delay = Math.min(Math.max(ms, MIN_HEARTBEAT_DELAY_MS), MAX_TIMER_MS)
    current.nextBeatAt = new Date(Date.now() + delay).toISOString()
    timer = setTimeout(() => {
      timer = undefined
      // A failure is already recorded and logged, and the retry scheduled.
      beatOnce().catch(() => {})
    }, delay)
    timer.unref()
  }

  function beatOnce(): Promise<void> {
    if (inflight !== undefined) return inflight
    clearTimeout(timer)
    timer = undefined
    current.nextBeatAt = null
    const signal = controller.signal
    inflight = (async () => {
      try {
        if (settings.token === '') {
          throw new HeartbeatDisabledError(
            'advertise-endpoint-token is empty; register with `autoretrieve register-estuary <url> <admin token>`'
          )
        }
        const answer = await sendHeartbeat(url(), settings.token, {
          signal,
          timeoutMs: settings.timeoutMs ?? DEFAULT_ESTUARY_TIMEOUT_MS
        })
        if (signal.aborted) return
        const recovered = current.state === 'failing'
        if (current.advertiseIntervalMs !== answer.advertiseIntervalMs) {
          logger.info(
            { endpoint: current.endpoint, advertiseInterval: answer.advertiseInterval },
            'Estuary advertise interval set'
          )
        }
        current.state = 'ok'
        current.handle = answer.handle ?? current.handle
        current.lastSuccessAt = new Date().toISOString()
        current.advertiseInterval = answer.advertiseInterval
        current.advertiseIntervalMs = answer.advertiseIntervalMs
        current.lastAdvertisementAt = answer.lastAdvertisement ?? null
        current.beats.succeeded++
        events?.onBeat?.(true)
        if (recovered) logger.info({ endpoint: current.endpoint }, 'Estuary heartbeat recovered')
        else logger.debug({ endpoint: current.endpoint }, 'Estuary heartbeat sent')
        if (running) schedule(answer.advertiseIntervalMs / 2)
      } catch (err) {
        if (signal.aborted) return
        const message = (err as Error).message
        current.state = 'failing'
        current.lastError = { message, at: new Date().toISOString() }
        current.beats.failed++
        events?.onBeat?.(false)
        logger.warn(
          { endpoint: current.endpoint, err: message, retryInMs: settings.retryIntervalMs },
          'Estuary heartbeat failed'
        )
        if (running) schedule(settings.retryIntervalMs)
        throw err
      }
    })().finally(() => {
      inflight = undefined
    })
    return inflight
  }

  const heartbeat: Heartbeat = {
    start() {
      started = true
      if (running || settings.endpoint === '') return
      running = true
      current.state = 'pending'
      logger.info({ endpoint: current.endpoint }, 'Estuary heartbeat starting')
      beatOnce().catch(() => {})
    },

    async stop() {
      const wasRunning = running
      started = false
      running = false
      clearTimeout(timer)
      timer = undefined
      controller.abort()
      await inflight?.catch(() => {})
      current.nextBeatAt = null
      if (wasRunning) current.state = 'stopped'
    },

    async configure(next) {
      if (
        next.endpoint === settings.endpoint &&
        next.token === settings.token &&
        next.retryIntervalMs === settings.retryIntervalMs &&
        next.timeoutMs === settings.timeoutMs
      )
        return
      const wasStarted = started
      await heartbeat.stop()
      settings = next
      controller = new AbortController()
      current = freshStatus(settings)
      if (wasStarted) heartbeat.start()
    },

    status() {
      return structuredClone(current)
    },

    async beat(options = {}) {
      if (settings.endpoint === '') throw new HeartbeatDisabledError(current.reason ?? 'disabled')
      if (!running) throw new HeartbeatDisabledError('the heartbeat is stopped')
      await abortable(beatOnce(), options.signal)
      return heartbeat.status()
    }
  }
  return heartbeat
}

function freshStatus(init: HeartbeatInit): HeartbeatStatus {
  const enabled = init.endpoint !== ''
  return {
    enabled,
    state: enabled ? 'pending' : 'disabled',
    reason: enabled ? null : 'advertise-endpoint-url is not set',
    endpoint: enabled ? redactUrl(heartbeatUrl(init.endpoint)) : null,
    handle: null,
    lastSuccessAt: null,
    lastError: null,
    nextBeatAt: null,
    advertiseInterval: null,
    advertiseIntervalMs: null,
    lastAdvertisementAt: null,
    retryIntervalMs: enabled ? init.retryIntervalMs : null,
    beats: { succeeded: 0, failed: 0 }
  }
}

/** Waits for `work` unless `signal` aborts first (the work itself goes on: others may be joined to it). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
