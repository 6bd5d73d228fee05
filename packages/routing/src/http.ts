import { MAX_JSON_BODY_BYTES } from './constants.ts'
import { IndexerResponseError, IndexerTimeoutError, IndexerUnavailableError } from './errors.ts'
import type { Fetch } from './types.ts'

/** An answered GET whose body is still to be read, under one deadline for headers and body alike. */
export interface Lookup {
  /** undefined when the server said 404: nothing known, which is not an error. */
  res: Response | undefined
  /** Turns whatever reading the body threw into the error the caller should see. */
  translate(err: unknown): unknown
  /** Clears the deadline and releases the connection; call in `finally`. */
  close(): Promise<void>
}

/**
 * GET `url` with a deadline combined with the caller's signal. The caller's abort surfaces as
 * its own reason (an AbortError), the deadline as IndexerTimeoutError, a network failure or a
 * 5xx as IndexerUnavailableError, any other unexpected status as IndexerResponseError.
 */
export async function openLookup(
  fetchFn: Fetch,
  url: string,
  init: { accept: string; timeoutMs: number; signal?: AbortSignal; headers?: Record<string, string> }
): Promise<Lookup> {
  init.signal?.throwIfAborted()
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(new IndexerTimeoutError(`${url}: no complete answer in ${init.timeoutMs} ms`))
  }, init.timeoutMs)
  const onAbort = () => controller.abort(init.signal?.reason)
  init.signal?.addEventListener('abort', onAbort, { once: true })
  let res: Response | undefined
  const translate = (err: unknown): unknown => {
    if (init.signal?.aborted) return init.signal.reason
    if (timedOut) return controller.signal.reason
    if (err instanceof IndexerResponseError || err instanceof IndexerUnavailableError) return err
    return new IndexerUnavailableError(`${url}: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  }
  const close = async () => {
    clearTimeout(timer)
    init.signal?.removeEventListener('abort', onAbort)
    // An unread body keeps the connection busy; cancelling a consumed or errored one is harmless.
    await res?.body?.cancel().catch(() => {})
  }
  try {
    res = await fetchFn(url, {
      headers: { Accept: init.accept, ...init.headers },
      signal: controller.signal
    })
  } catch (err) {
    await close()
    throw translate(err)
  }
  if (res.status === 404) {
    await close()
    return { res: undefined, translate, close }
  }
  if (!res.ok) {
    await close()
    const ErrorClass = res.status >= 500 ? IndexerUnavailableError : IndexerResponseError
    throw new ErrorClass(`${url}: HTTP ${res.status} ${res.statusText}`.trimEnd())
  }
  return { res, translate, close }
}

/** The whole body as JSON, refusing one larger than `maxBytes` (an indexer answer is a few KiB). */
export async function readJson(res: Response, url: string, maxBytes = MAX_JSON_BODY_BYTES): Promise<unknown> {
  const chunks: Uint8Array[] = []
  let size = 0
  if (res.body !== null) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > maxBytes) throw new IndexerResponseError(`${url}: the answer is larger than ${maxBytes} bytes`)
      chunks.push(chunk)
    }
  }
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    throw new IndexerResponseError(`${url}: the answer is not JSON`, { cause })
  }
}

/** True when the server chose NDJSON (it may answer JSON even when NDJSON was asked for). */
export function isNdjson(res: Response): boolean {
  return (res.headers.get('Content-Type') ?? '').toLowerCase().includes('application/x-ndjson')
}
