/** Estuary could not be reached: connection refused, DNS, TLS, or no answer within the timeout. */
export class EstuaryUnreachableError extends Error {
  static override name = 'EstuaryUnreachableError'
  override name = 'EstuaryUnreachableError'
  code = 'ERR_ESTUARY_UNREACHABLE'
}

/** Estuary answered with a non-2xx status; the message carries its reason and details. */
export class EstuaryStatusError extends Error {
  static override name = 'EstuaryStatusError'
  override name = 'EstuaryStatusError'
  code = 'ERR_ESTUARY_STATUS'
  readonly status: number
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options)
    this.status = status
  }
}

/** Estuary answered 2xx with something unusable: not JSON, too large, an `error`, missing fields. */
export class EstuaryAnswerError extends Error {
  static override name = 'EstuaryAnswerError'
  override name = 'EstuaryAnswerError'
  code = 'ERR_ESTUARY_ANSWER'
}

/** A heartbeat was asked for while none is configured (no advertise-endpoint-url) or after stop. */
export class HeartbeatDisabledError extends Error {
  static override name = 'HeartbeatDisabledError'
  override name = 'HeartbeatDisabledError'
  code = 'ERR_HEARTBEAT_DISABLED'
}
