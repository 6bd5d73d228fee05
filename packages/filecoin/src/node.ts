// Typed reads from IPLD data-model values (what decodeDagCbor returns), with errors that name the
// part and the key. Shared by the message and voucher codecs.
import { BinaryString } from '@autoretrieve/graphsync'
import { CID } from 'multiformats/cid'
import { MalformedTransferMessageError } from './errors.ts'

const MAX_UINT64 = (1n << 64n) - 1n
const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const lenientUtf8 = new TextDecoder('utf-8')

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'list'
  if (value instanceof Uint8Array) return 'bytes'
  if (value instanceof BinaryString) return 'string'
  if (CID.asCID(value) !== null) return 'link'
  return typeof value
}

export function malformed(where: string, what: string, value: unknown): MalformedTransferMessageError {
  return new MalformedTransferMessageError(`${where}: expected ${what}, got ${describe(value)}`)
}

/**
 * Checks that `value` is a map with exactly `keys` (any order): every key required, no other key
 * (what Go's bindnode decoder enforces).
 */
export function readStruct(part: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) {
    throw malformed(part, 'a map', value)
  }
  if (CID.asCID(value) !== null || value instanceof BinaryString) throw malformed(part, 'a map', value)
  const map = value as Record<string, unknown>
  for (const key of Object.keys(map)) {
    if (!keys.includes(key)) throw new MalformedTransferMessageError(`${part}: unknown key "${key}"`)
  }
  for (const key of keys) {
    if (!Object.hasOwn(map, key)) throw new MalformedTransferMessageError(`${part}: missing key "${key}"`)
  }
  return map
}

export function readBool(where: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw malformed(where, 'a bool', value)
  return value
}

/** An unsigned 64-bit integer (decoders give numbers up to 2^53 and bigints past it). */
export function readUint64(where: string, value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value)
  if (typeof value === 'bigint' && value >= 0n && value <= MAX_UINT64) return value
  throw malformed(where, 'an unsigned 64-bit integer', value)
}

/** A small unsigned integer (enum values: message type, deal status). */
export function readUint(where: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value
  throw malformed(where, 'an unsigned integer', value)
}

/** A text string; one whose bytes are not UTF-8 is decoded leniently (U+FFFD for bad bytes). */
export function readString(where: string, value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof BinaryString) return lenientUtf8.decode(value.bytes)
  throw malformed(where, 'a string', value)
}

/** The bytes of a text string, exact even when they are not UTF-8 (binary peer IDs). */
export function readStringBytes(where: string, value: unknown): Uint8Array {
  if (typeof value === 'string') return utf8.encode(value)
  // A plain Uint8Array copy: the decoder may hand out Buffers or views of the message.
  if (value instanceof BinaryString) return Uint8Array.from(value.bytes)
  throw malformed(where, 'a string', value)
}

export function readBytes(where: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  throw malformed(where, 'bytes', value)
}

export function readLink(where: string, value: unknown): CID {
  const cid = CID.asCID(value)
  if (cid === null) throw malformed(where, 'a link', value)
  return cid
}

export function readNullableLink(where: string, value: unknown): CID | null {
  return value === null ? null : readLink(where, value)
}

/** The data-model form of a text string holding `bytes`: a string if they are UTF-8, else a BinaryString. */
export function stringNode(bytes: Uint8Array): string | BinaryString {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return new BinaryString(bytes)
  }
}

/** A 64-bit integer as the decoder would give it: a number up to 2^53, a bigint past it. */
export function intNode(value: bigint | number, where: string): number | bigint {
  const big = BigInt(value)
  if (big < 0n || big > MAX_UINT64) {
    throw new RangeError(`${where}: ${big} is not an unsigned 64-bit integer`)
  }
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
}
