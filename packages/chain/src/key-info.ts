// Lotus' wallet key format (chain/types KeyInfo): JSON {"Type":"secp256k1","PrivateKey":"<base64>"},
// and `lotus wallet export` / `import` pass the hex of that JSON.
import { InvalidKeyError } from './errors.ts'

/** A wallet key as Lotus stores and exports it. Only secp256k1 keys are supported. */
export interface KeyInfo {
  type: 'secp256k1'
  privateKey: Uint8Array
}

// Go's encoding/json writes []byte as standard, padded base64.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
// A KeyInfo is a few dozen bytes; anything much bigger is not one.
const MAX_KEY_INFO_CHARS = 4096

/** The KeyInfo's JSON, field for field as Lotus writes it. */
export function keyInfoToJson(keyInfo: KeyInfo): string {
  return JSON.stringify({ Type: keyInfo.type, PrivateKey: Buffer.from(keyInfo.privateKey).toString('base64') })
}

/** Reads KeyInfo JSON; throws {@link InvalidKeyError} saying what is wrong (never echoing the key). */
export function keyInfoFromJson(text: string): KeyInfo {
  if (typeof text !== 'string' || text.length > MAX_KEY_INFO_CHARS)
    throw new InvalidKeyError('key info is not a short JSON text')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InvalidKeyError('key info is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidKeyError('key info is not a JSON object')
  const { Type, PrivateKey } = value as Record<string, unknown>
  if (Type === 'bls') throw new InvalidKeyError('BLS keys are not supported, only secp256k1')
  if (Type !== 'secp256k1') throw new InvalidKeyError('key info Type is not "secp256k1"')
  if (typeof PrivateKey !== 'string' || !STRICT_BASE64.test(PrivateKey))
    throw new InvalidKeyError('key info PrivateKey is not base64')
  const privateKey = new Uint8Array(Buffer.from(PrivateKey, 'base64'))
  if (privateKey.length !== 32) throw new InvalidKeyError(`key info PrivateKey is ${privateKey.length} bytes, not 32`)
  return { type: 'secp256k1', privateKey }
}

/** The hex text `lotus wallet export` prints for a key. */
export function encodeKeyInfoHex(keyInfo: KeyInfo): string {
  return Buffer.from(keyInfoToJson(keyInfo), 'utf8').toString('hex')
}

/** Reads what `lotus wallet export` printed (surrounding white space is ignored). */
export function decodeKeyInfoHex(text: string): KeyInfo {
  const hex = typeof text === 'string' ? text.trim() : ''
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex))
    throw new InvalidKeyError('exported key is not hex')
  if (hex.length > MAX_KEY_INFO_CHARS * 2) throw new InvalidKeyError('exported key is too long')
  return keyInfoFromJson(Buffer.from(hex, 'hex').toString('utf8'))
}
