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

export class InvalidCursorError extends Error {
  static override name = 'InvalidCursorError'
  override name = 'InvalidCursorError'
  readonly code = 'ERR_INVALID_CURSOR'
}

/** Connection-level failures (refused, reset, terminated, timeouts) become StoreUnavailableError. */
export function toStoreError(err: unknown, what: string): Error {
  const e = err as { code?: string; message?: string; cause?: { code?: string } }
  const code = e?.code ?? e?.cause?.code ?? ''
  const connection =
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|CONNECTION_|57P0[1-3]|08\d{3}|53300)/.test(code) ||
    /connection|terminat|closed|ended/i.test(e?.message ?? '')
  if (connection)
    return new StoreUnavailableError(`database unavailable while ${what}: ${e?.message ?? code}`, { cause: err })
  return err as Error
}
