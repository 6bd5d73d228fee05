import { parseFil } from '@autoretrieve/chain'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { parseByteSize, parseDuration } from './units.ts'

/**
 * Value parsers shared by YAML, environment and flags. Each is a zod schema, so validation
 * happens once at the edge and what comes out is a plain typed value; the loader turns the
 * first issue into a one-line error with the key and the file:line it came from.
 */
const unit = (parse: (v: string | number) => number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    try {
      return parse(v)
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message })
      return z.NEVER
    }
  })

export const byteSize = unit(parseByteSize)
export const duration = unit(parseDuration)

/** Go's strconv.ParseBool set, for environment values; YAML booleans pass through. */
export const bool = z.union([
  z.boolean(),
  z
    .string()
    .refine((s) => ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s), {
      message: 'is not a boolean (true or false)'
    })
    .transform((s) => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s))
])

export const count = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().int('must be a whole number').min(0, 'must not be negative'))

export const text = z.union([z.string(), z.null().transform(() => '')])

export const url = z.string().refine(
  (s) => {
    if (s === '') return true
    try {
      const u = new URL(s)
      return ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)
    } catch {
      return false
    }
  },
  { message: 'is not an http(s) URL' }
)

export const oneOf = <T extends string>(values: readonly T[], aliases: Record<string, T> = {}) =>
  z.string().transform((s, ctx) => {
    const v = s.toLowerCase()
    const found = (values as readonly string[]).includes(v) ? (v as T) : aliases[v]
    if (found === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not one of ${values.join(', ')}` })
      return z.NEVER
    }
    return found
  })

export const cid = z.string().refine(
  (s) => {
    try {
      CID.parse(s)
      return true
    } catch {
      return false
    }
  },
  { message: 'is not a CID' }
)

/** A provider: a libp2p peer ID or a Filecoin address (f0… ID address, or f1/f2/f3 protocol addresses). */
export function isProviderId(s: string): boolean {
  if (/^[ft]0\d+$/.test(s) || /^[ft][123][a-z2-7]{20,}$/.test(s)) return true
  try {
    peerIdFromString(s)
    return true
  } catch {
    return false
  }
}

export const provider = z
  .string()
  .refine(isProviderId, { message: 'is neither a peer ID nor a Filecoin address (f0…)' })

export const list = <T extends z.ZodType>(item: T) =>
  z.union([z.array(item), z.null().transform(() => [] as z.output<T>[])])

export const multiaddrText = z.string().refine(
  (s) => {
    try {
      multiaddr(s)
      return s.startsWith('/')
    } catch {
      return false
    }
  },
  { message: 'is not a multiaddr (e.g. /ip4/0.0.0.0/tcp/6746)' }
)

export const hostPort = z.string().transform((s, ctx) => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s)
  const port = m ? Number(m[3]) : Number.NaN
  if (m === null || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not host:port (e.g. 127.0.0.1:8080)` })
    return z.NEVER
  }
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]), port }
})

/** host:port, or empty (or null in YAML) for "off": the gateway listener. */
export const optionalHostPort = z.union([z.null().transform(() => null), z.literal('').transform(() => null), hostPort])

export const protocols = z
  .array(z.enum(['http', 'graphsync', 'bitswap'], { message: 'must be http, graphsync or bitswap' }))
  .min(1, 'needs at least one protocol')

function toAmount(v: string | number): bigint {
  // A YAML number past 2^53 has already lost digits when it reaches here.
  if (typeof v === 'number' && !Number.isSafeInteger(v))
    throw new Error(`${v} is too large for a YAML number: quote it or write it in FIL ("0.01 FIL")`)
  const atto = parseFil(String(v))
  if (atto < 0n) throw new Error(`"${v}" must not be negative`)
  return atto
}

const amountOr = <T>(none: (s: string) => T | undefined) =>
  z.union([z.string(), z.number()]).transform((v, ctx): bigint | T => {
    const special = typeof v === 'string' ? none(v.trim()) : undefined
    if (special !== undefined) return special
    try {
      return toAmount(v)
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message })
      return z.NEVER
    }
  })

/** attoFIL, as an integer or a "0.01 FIL" string (parseFil's rule). */
export const amount = amountOr<never>(() => undefined)

/** A cap: an amount, or "none" (or empty) for no cap (undefined). */
export const cap = amountOr<null>((s) => (s === 'none' || s === '' ? null : undefined)).transform((v) =>
  v === null ? undefined : v
)
