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
  try {
    return await c.req.json()
  } catch (cause) {
    throw new ApiError('ERR_INVALID_JSON', 'the request body is not valid JSON', { cause })
  }
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
