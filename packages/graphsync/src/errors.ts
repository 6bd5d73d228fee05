/** A message that does not follow the Graphsync 2.0.0 schema (what and where is in the message). */
export class MalformedMessageError extends Error {
  static override name = 'MalformedMessageError'
  override name = 'MalformedMessageError'
  readonly code = 'ERR_GRAPHSYNC_MALFORMED_MESSAGE'
}

/** A frame whose declared length is over the 4 MiB bound Go readers enforce. */
export class MessageTooLargeError extends Error {
  static override name = 'MessageTooLargeError'
  override name = 'MessageTooLargeError'
  readonly code = 'ERR_GRAPHSYNC_MESSAGE_TOO_LARGE'
}

/** A selector we cannot parse or run. */
export class UnsupportedSelectorError extends Error {
  static override name = 'UnsupportedSelectorError'
  override name = 'UnsupportedSelectorError'
  readonly code = 'ERR_GRAPHSYNC_UNSUPPORTED_SELECTOR'
}

/**
 * The responder's metadata does not follow our own traversal of the selector (a link out of
 * order or outside the selector), or a block it called present never arrived: go-graphsync's
 * "possible malicious responder".
 */
export class RemoteIncorrectResponseError extends Error {
  static override name = 'RemoteIncorrectResponseError'
  override name = 'RemoteIncorrectResponseError'
  readonly code = 'ERR_GRAPHSYNC_INCORRECT_RESPONSE'
}

/** The responder ended the request with an error status (30–35). */
export class RequestFailedError extends Error {
  static override name = 'RequestFailedError'
  override name = 'RequestFailedError'
  readonly code = 'ERR_GRAPHSYNC_REQUEST_FAILED'
  readonly status: number
  /** The extensions of the terminal response (data-transfer rejections travel here). */
  readonly extensions: Record<string, unknown>
  constructor(message: string, status: number, extensions: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options)
    this.status = status
    this.extensions = extensions
  }
}

/** The request was cancelled locally (abort signal) or the node stopped. */
export class RequestCancelledError extends Error {
  static override name = 'RequestCancelledError'
  override name = 'RequestCancelledError'
  readonly code = 'ERR_GRAPHSYNC_REQUEST_CANCELLED'
}

/**
 * The responder's stream broke (reset, malformed message) or it disconnected while a request was
 * in progress: go-graphsync's "receive error" for the peer.
 */
export class ReceiveError extends Error {
  static override name = 'ReceiveError'
  override name = 'ReceiveError'
  readonly code = 'ERR_GRAPHSYNC_RECEIVE_ERROR'
}
