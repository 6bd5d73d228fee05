/**
 * A request the gateway answers with an error status before the body starts. `code` is stable
 * (shown to clients and in logs), `status` is the HTTP status, and `errorClass` is what the
 * request's record keeps (the retrieval's failure reason when a miss failed).
 */
export class GatewayError extends Error {
  static override name = 'GatewayError'
  override name = 'GatewayError'
  readonly status: number
  readonly code: string
  readonly headers: Record<string, string>

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> }
  ) {
    super(message, { cause: options?.cause })
    this.status = status
    this.code = code
    this.headers = options?.headers ?? {}
  }
}

/** A block the DAG needs cannot be had: the retrieval failed, or ended without it. */
export class BlockUnavailableError extends GatewayError {
  static override name = 'BlockUnavailableError'
  override name = 'BlockUnavailableError'
}

/** The CID (or a block of its DAG) is on the deny list. */
export class DeniedError extends GatewayError {
  static override name = 'DeniedError'
  override name = 'DeniedError'
}

/** The client's miss budget is spent (the admission hook said no). */
export class RateLimitedError extends GatewayError {
  static override name = 'RateLimitedError'
  override name = 'RateLimitedError'
}
