// Workers for responses: go-graphsync runs a fixed number of responses at once and queues the
// rest in arrival order. A turn can be given back before the response ends (it paused) and taken
// again later, waiting in line like a new request: a paused response holds no worker.
import PQueue from 'p-queue'

export interface Turns {
  /**
   * Resolves once a worker is ours, with the function that gives it back. Rejects when `signal`
   * aborts first.
   */
  take(signal: AbortSignal): Promise<() => void>
  /** Drops every waiter that has not started (their signals should be aborted by the caller). */
  clear(): void
}

export function createTurns(concurrency: number): Turns {
  const queue = new PQueue({ concurrency })
  return {
    take(signal) {
      return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason)
        const onAbort = () => reject(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
        queue
          .add(async () => {
            signal.removeEventListener('abort', onAbort)
            if (signal.aborted) return
            // The worker stays taken until the holder calls the release it was given.
            await new Promise<void>((release) => resolve(release))
          })
          .catch(() => {})
      })
    },
    clear: () => queue.clear()
  }
}

/** Settles with `promise`, or rejects as soon as `signal` aborts (for a hook that ignores it). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
