import { IndexerUnavailableError } from './errors.ts'
import type { Fetch } from './types.ts'

/** GET with a timeout combined with the caller's signal; network failures become IndexerUnavailableError. */
export async function getWithTimeout(
  fetchFn: Fetch,
  url: string,
  init: { accept: string; timeoutMs: number; signal?: AbortSignal; headers?: Record<string, string> }
): Promise<Response> {
  const signals = [AbortSignal.timeout(init.timeoutMs)]
  if (init.signal) signals.push(init.signal)
  try {
    return await fetchFn(url, { headers: { Accept: init.accept, ...init.headers }, signal: AbortSignal.any(signals) })
  } catch (cause) {
    if (init.signal?.aborted) throw cause
    const reason =
      (cause as Error).name === 'TimeoutError' ? `no answer in ${init.timeoutMs} ms` : (cause as Error).message
    throw new IndexerUnavailableError(`${url}: ${reason}`, { cause })
  }
}
