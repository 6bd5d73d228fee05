import type { Logger } from '@autoretrieve/interface'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { API_ERRORS, ApiError } from './errors.ts'

interface CodedError extends Error {
  code?: string
  status?: number
}

/**
 * The one place errors become responses, always `{"error":{"code","message"}}`. Typed errors
 * carry their code (a store outage is a 503, not a 500); HTTPException keeps its status; anything
 * else is a logged 500 whose details stay in the log. 4xx log at info, 5xx at error.
 */
export function createErrorHandler(logger?: Logger) {
  return function onError(err: Error, c: Context) {
    let status: ContentfulStatusCode = 500
    let code: string = 'ERR_INTERNAL'
    let message = 'internal error'
    if (err instanceof ApiError) {
      status = err.status
      code = err.code
      message = err.message
    } else if (err instanceof HTTPException) {
      status = err.status as ContentfulStatusCode
      // bearerAuth answers 401 (no or wrong token) or 400 (malformed header, RFC 6750
      // invalid_request); both carry WWW-Authenticate and are auth failures to the client.
      const authenticate = err.getResponse().headers.get('WWW-Authenticate')
      if (authenticate) {
        c.header('WWW-Authenticate', authenticate)
        code = 'ERR_UNAUTHORIZED'
        message = status === 401 ? 'missing or wrong bearer token' : 'malformed Authorization header'
      } else {
        code = status === 413 ? 'ERR_BODY_TOO_LARGE' : 'ERR_INVALID_INPUT'
        message = err.message || 'bad request'
      }
    } else if (isDataException(err)) {
      // PostgreSQL class 22 (data exception): text or a number it cannot store. The input's fault.
      status = 400
      code = 'ERR_INVALID_INPUT'
      message = 'the database refused a value in this request (a NUL byte, invalid text or a number out of range)'
    } else if ((err as CodedError).code === 'ERR_STORE_UNAVAILABLE') {
      status = 503
      code = 'ERR_STORE_UNAVAILABLE'
      message = err.message
    } else if (typeof (err as CodedError).code === 'string' && (err as CodedError).code! in API_ERRORS) {
      code = (err as CodedError).code!
      status = API_ERRORS[code as keyof typeof API_ERRORS].status
      message = err.message
    }
    const entry = { err, method: c.req.method, path: c.req.path, status, code }
    if (status >= 500) logger?.error(entry, 'admin request failed')
    else logger?.info({ ...entry, err: err.message }, 'admin request refused')
    return c.json({ error: { code, message } }, status)
  }
}

/** An error whose cause chain holds a PostgreSQL data exception (SQLSTATE class 22, e.g. 22021 for a NUL byte). */
function isDataException(err: unknown): boolean {
  let e = err as { code?: unknown; cause?: unknown } | undefined
  for (let depth = 0; e != null && depth < 5; depth++) {
    if (typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code)) return true
    e = e.cause as typeof e
  }
  return false
}
