/** The database cannot be reached or refused the operation for a connection reason. */
export class StoreUnavailableError extends Error {
  static override name = 'StoreUnavailableError'
  override name = 'StoreUnavailableError'
  readonly code = 'ERR_STORE_UNAVAILABLE'
}

/** A migration failed: the node must not start on a half-migrated database. */
export class MigrationError extends Error {
  static override name = 'MigrationError'
  override name = 'MigrationError'
  readonly code = 'ERR_STORE_MIGRATION'
}

/** A row asked for by id does not exist (for callers that want an error rather than null). */
export class NotFoundError extends Error {
  static override name = 'NotFoundError'
  override name = 'NotFoundError'
  readonly code = 'ERR_NOT_FOUND'
}

/** A pagination cursor this store did not give out. */
export class InvalidCursorError extends Error {
  static override name = 'InvalidCursorError'
  override name = 'InvalidCursorError'
  readonly code = 'ERR_INVALID_CURSOR'
}

/** The caller's signal fired before the operation finished. */
export class AbortError extends Error {
  static override name = 'AbortError'
  override name = 'AbortError'
  readonly code = 'ABORT_ERR'
}

/** Throws an AbortError (keeping the signal's reason as cause) when the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError('the operation was aborted', { cause: signal.reason })
}

const CONNECTION_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|CONNECT_TIMEOUT|CONNECTION_|57P0[1-4]|08\d{3}|53300|55000|3D000)/
const CONNECTION_MESSAGES = /connection|terminat|closed|ended|not currently accepting/i

/**
 * Connection-level failures (refused, reset, terminated, timeouts, a database gone or closed to
 * connections) become StoreUnavailableError. drizzle wraps driver errors (DrizzleQueryError, whose
 * message quotes the query), so the cause chain is searched and that wrapper's message skipped.
 */
export function toStoreError(err: unknown, what: string): Error {
  if (err instanceof StoreUnavailableError || err instanceof AbortError) return err
  let connection = false
  let detail = ''
  let e = err as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown } | undefined
  for (let depth = 0; e != null && depth < 5 && !connection; depth++) {
    const message = typeof e.message === 'string' ? e.message : ''
    const wrapper = e.name === 'DrizzleQueryError' || message.startsWith('Failed query')
    if (typeof e.code === 'string' && CONNECTION_CODES.test(e.code)) connection = true
    if (!wrapper && CONNECTION_MESSAGES.test(message)) connection = true
    if (!wrapper && detail === '') detail = message
    e = e.cause as typeof e
  }
  if (connection) return new StoreUnavailableError(`database unavailable while ${what}: ${detail}`, { cause: err })
  return err as Error
}
