/**
 * Why one attempt against one provider failed. `errorClass` is a stable code for records and
 * metrics: http_status, bad_response, wrong_block, unexpected_block, incomplete, timeout,
 * dont_have, connect_failed, not_found (graphsync 34), rejected, too_many_deals, under_maintenance, access_control, other.
 */
export class AttemptError extends Error {
  static override name = 'AttemptError'
  override name = 'AttemptError'
  readonly errorClass: string
  constructor(errorClass: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.errorClass = errorClass
  }
}

/** Every candidate failed; keeps each attempt's error. */
export class RetrievalFailedError extends AggregateError {
  static override name = 'RetrievalFailedError'
  override name = 'RetrievalFailedError'
  readonly code = 'ERR_RETRIEVAL_FAILED'
  readonly reason: string
  constructor(reason: string, errors: Error[], message: string) {
    super(errors, message)
    this.reason = reason
  }
}
