import { isProviderId } from '@autoretrieve/config'
import type { Context } from 'hono'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { ApiError } from './errors.ts'

/** Reads a JSON body, or throws ERR_INVALID_JSON saying so. */
export async function jsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('Content-Type') ?? ''
  if (!type.includes('application/json'))
    throw new ApiError('ERR_UNSUPPORTED_MEDIA_TYPE', 'send JSON with Content-Type: application/json')
  let value: unknown
  try {
    value = await c.req.json()
  } catch (cause) {
    throw new ApiError('ERR_INVALID_JSON', 'the request body is not valid JSON', { cause })
  }
  const nul = findNul(value, 'body')
  if (nul !== undefined) throw new ApiError('ERR_INVALID_INPUT', `${nul}: contains a NUL byte, which cannot be stored`)
  return value
}

/** The path (`body.cids.3`) of the first string in a JSON value holding a NUL (PostgreSQL's text refuses U+0000). */
export function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined
  if (value === null || typeof value !== 'object' || depth > 32) return undefined
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\u0000')) return `${path} (a key)`
    const found = findNul(v, `${path}.${k}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/** Validates with zod; a failure is one ERR_INVALID_INPUT naming the field, never the raw zod result. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.output<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const path = issue.path.length > 0 ? `${where}.${issue.path.join('.')}` : where
  throw new ApiError('ERR_INVALID_INPUT', `${path}: ${issue.message}`)
}

export function isCid(s: string): boolean {
  try {
    CID.parse(s)
    return true
  } catch {
    return false
  }
}

/** A provider: a libp2p peer ID or a Filecoin address (the config's own rule, so both accept the same). */
export const isProvider = isProviderId

export const cidString = z.string().refine(isCid, { message: 'is not a CID' })
export const providerString = z
  .string()
  .refine(isProvider, { message: 'is neither a peer ID nor a Filecoin address (f0…)' })
export const reason = z.string().max(500).optional()
