import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Every error code the admin API answers with, in one registry (Fastify's lib/errors.js idea):
 * a test checks they are unique and documented in docs/INTERFACE.md.
 */
export const API_ERRORS = {
  ERR_UNAUTHORIZED: { status: 401, description: 'missing or wrong bearer token' },
  ERR_NOT_FOUND: { status: 404, description: 'no such route or resource' },
  ERR_INVALID_INPUT: { status: 400, description: 'the request body, path or query failed validation' },
  ERR_INVALID_JSON: { status: 400, description: 'the request body is not valid JSON' },
  ERR_BODY_TOO_LARGE: { status: 413, description: 'the request body is over the size limit' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'wrong Content-Type for this endpoint' },
  ERR_HEARTBEAT_DISABLED: { status: 409, description: 'no Estuary heartbeat is configured (advertise-endpoint-url)' },
  ERR_HEARTBEAT_FAILED: {
    status: 502,
    description: 'Estuary did not accept the heartbeat (unreachable, refused, bad answer)'
  },
  ERR_NOT_READY: { status: 503, description: 'a dependency (database, libp2p, cache) is not ready' },
  ERR_STORE_UNAVAILABLE: { status: 503, description: 'the database cannot be reached' },
  ERR_INTERNAL: { status: 500, description: 'an unexpected error; see the node log' },
  // Issue 13: honest answers for bad input.
  ERR_CONFIG_INVALID: {
    status: 400,
    description: 'POST /api/v1/reload: config.yaml has an error (the message names file:line); nothing was changed'
  },
  ERR_HEADERS_TOO_LARGE: { status: 431, description: 'the request headers are over the server limit (16 KiB)' }
} as const satisfies Record<string, { status: ContentfulStatusCode; description: string }>

export type ApiErrorCode = keyof typeof API_ERRORS

/** An error the API reports as-is: its code picks the status. */
export class ApiError extends Error {
  static override name = 'ApiError'
  override name = 'ApiError'
  readonly code: ApiErrorCode
  readonly status: ContentfulStatusCode
  constructor(code: ApiErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.status = API_ERRORS[code].status
  }
}
