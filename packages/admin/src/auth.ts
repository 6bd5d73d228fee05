import type { MiddlewareHandler } from 'hono'
import { bearerAuth } from 'hono/bearer-auth'

/**
 * Bearer-token auth for /api/v1. Hono's bearerAuth compares in constant time and sends
 * WWW-Authenticate. `getToken` is read per request so a rotated token needs no restart.
 */
export function adminAuth(getToken: () => string): MiddlewareHandler {
  return bearerAuth({
    verifyToken: async (token) => {
      const expected = getToken()
      if (expected.length === 0) return false
      const a = new TextEncoder().encode(token)
      const b = new TextEncoder().encode(expected)
      // Constant time over the expected length, so the comparison leaks neither prefix nor length match.
      let diff = a.length ^ b.length
      for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]
      return diff === 0
    }
  })
}
