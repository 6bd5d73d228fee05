// Filecoin addresses as go-address reads and writes them. Bytes: one protocol byte, then the
// payload (ID: varint actor id; secp256k1 and actor: 20-byte blake2b-160; BLS: 48-byte public
// key; delegated: varint namespace ++ sub-address). Strings: network letter, protocol digit, then
// the decimal id, or base32 (RFC 4648, lower case, unpadded) of payload ++ 4-byte blake2b checksum
// over protocol ++ payload (delegated: `<namespace>f` before the base32 of sub-address ++ checksum).
import { blake2b } from '@noble/hashes/blake2.js'
import { base32 } from 'multiformats/bases/base32'
import { InvalidAddressError } from './errors.ts'
import { decodeUvarint, encodeUvarint } from './varint.ts'

export type Protocol = 0 | 1 | 2 | 3 | 4

/** A Filecoin address: its protocol and the payload that follows the protocol byte. */
export interface Address {
  protocol: Protocol
  payload: Uint8Array
}

/** `f` on mainnet, `t` on test networks (calibration, devnets). */
export type Network = 'f' | 't'

const PAYLOAD_HASH_LENGTH = 20
const CHECKSUM_LENGTH = 4
const BLS_PUBLIC_KEY_LENGTH = 48
const MAX_SUBADDRESS_LENGTH = 54
const MAX_INT64 = (1n << 63n) - 1n
// go-address's MaxAddressStringLength: network + protocol + 19 digits + `f` + 93 base32 characters.
const MAX_STRING_LENGTH = 2 + 19 + 1 + 93
// Go parses ids with strconv.ParseUint(raw, 10, 63): decimal digits only, leading zeros allowed.
const DECIMAL = /^[0-9]{1,19}$/

const checksum = (protocol: Protocol, payload: Uint8Array): Uint8Array =>
  blake2b(concat(Uint8Array.of(protocol), payload), { dkLen: CHECKSUM_LENGTH })

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

/** Checks a payload against its protocol's rules; returns why it is not valid, or undefined. */
function payloadProblem(protocol: number, payload: Uint8Array): string | undefined {
  switch (protocol) {
    case 0: {
      const id = decodeUvarint(payload)
      if (typeof id === 'string') return `ID payload: ${id}`
      if (id.length !== payload.length) return 'ID payload has bytes after the varint'
      if (id.value > MAX_INT64) return 'ID must be less than 2^63'
      return undefined
    }
    case 1:
    case 2:
      return payload.length === PAYLOAD_HASH_LENGTH
        ? undefined
        : `protocol ${protocol} payload is ${payload.length} bytes, not ${PAYLOAD_HASH_LENGTH}`
    case 3:
      return payload.length === BLS_PUBLIC_KEY_LENGTH
        ? undefined
        : `BLS payload is ${payload.length} bytes, not ${BLS_PUBLIC_KEY_LENGTH}`
    case 4: {
      const ns = decodeUvarint(payload)
      if (typeof ns === 'string') return `delegated namespace: ${ns}`
      if (ns.value > MAX_INT64) return 'delegated namespace must be less than 2^63'
      if (payload.length - ns.length > MAX_SUBADDRESS_LENGTH)
        return `delegated sub-address is longer than ${MAX_SUBADDRESS_LENGTH} bytes`
      return undefined
    }
    default:
      return `unknown address protocol ${protocol}`
  }
}

function checked(protocol: Protocol, payload: Uint8Array, where: string): Address {
  const problem = payloadProblem(protocol, payload)
  if (problem !== undefined) throw new InvalidAddressError(`${where}: ${problem}`)
  return { protocol, payload }
}

function base32Decode(text: string, where: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = base32.baseDecode(text)
  } catch (cause) {
    throw new InvalidAddressError(`${where}: not base32`, { cause })
  }
  // Like Go, accept only the canonical spelling (no trailing bits, lower case).
  if (base32.baseEncode(bytes) !== text) throw new InvalidAddressError(`${where}: not canonical base32`)
  return bytes
}

/**
 * Parses `f…`/`t…` address text (any network), checking the checksum and the payload length.
 * Throws {@link InvalidAddressError} (ERR_INVALID_ADDRESS) naming the address and the problem.
 */
export function parseAddress(text: string): Address {
  if (typeof text !== 'string') throw new InvalidAddressError('address is not a string')
  const where = `address ${JSON.stringify(text.length > 130 ? `${text.slice(0, 130)}…` : text)}`
  if (text.length < 3 || text.length > MAX_STRING_LENGTH) throw new InvalidAddressError(`${where}: wrong length`)
  if (text[0] !== 'f' && text[0] !== 't') throw new InvalidAddressError(`${where}: network is not f or t`)
  const protocol = Number(text[1])
  if (!/^[0-4]$/.test(text[1])) throw new InvalidAddressError(`${where}: unknown protocol ${text[1]}`)
  const raw = text.slice(2)
  if (protocol === 0) {
    if (!DECIMAL.test(raw)) throw new InvalidAddressError(`${where}: ID is not a decimal number`)
    const id = BigInt(raw)
    if (id > MAX_INT64) throw new InvalidAddressError(`${where}: ID must be less than 2^63`)
    return { protocol: 0, payload: encodeUvarint(id) }
  }
  let payload: Uint8Array
  let sum: Uint8Array
  if (protocol === 4) {
    const f = raw.indexOf('f')
    if (f < 0) throw new InvalidAddressError(`${where}: delegated address has no f after the namespace`)
    const ns = raw.slice(0, f)
    if (!DECIMAL.test(ns)) throw new InvalidAddressError(`${where}: namespace is not a decimal number`)
    const namespace = BigInt(ns)
    if (namespace > MAX_INT64) throw new InvalidAddressError(`${where}: namespace must be less than 2^63`)
    const rest = base32Decode(raw.slice(f + 1), where)
    if (rest.length < CHECKSUM_LENGTH) throw new InvalidAddressError(`${where}: too short for a checksum`)
    if (rest.length - CHECKSUM_LENGTH > MAX_SUBADDRESS_LENGTH)
      throw new InvalidAddressError(`${where}: sub-address is longer than ${MAX_SUBADDRESS_LENGTH} bytes`)
    payload = concat(encodeUvarint(namespace), rest.subarray(0, rest.length - CHECKSUM_LENGTH))
    sum = rest.subarray(rest.length - CHECKSUM_LENGTH)
  } else {
    const rest = base32Decode(raw, where)
    if (rest.length < CHECKSUM_LENGTH) throw new InvalidAddressError(`${where}: too short for a checksum`)
    payload = rest.subarray(0, rest.length - CHECKSUM_LENGTH)
    sum = rest.subarray(rest.length - CHECKSUM_LENGTH)
  }
  const problem = payloadProblem(protocol, payload)
  if (problem !== undefined) throw new InvalidAddressError(`${where}: ${problem}`)
  if (!bytesEqual(checksum(protocol as Protocol, payload), sum)) throw new InvalidAddressError(`${where}: bad checksum`)
  return { protocol: protocol as Protocol, payload: Uint8Array.from(payload) }
}

/** The address as text on `network` (`f` by default), as go-address's String/encode writes it. */
export function formatAddress(address: Address, network: Network = 'f'): string {
  const { protocol, payload } = checked(address.protocol, address.payload, 'address')
  if (protocol === 0) {
    const id = decodeUvarint(payload) as { value: bigint }
    return `${network}0${id.value}`
  }
  const sum = checksum(protocol, payload)
  if (protocol === 4) {
    const ns = decodeUvarint(payload) as { value: bigint; length: number }
    return `${network}4${ns.value}f${base32.baseEncode(concat(payload.subarray(ns.length), sum))}`
  }
  return `${network}${protocol}${base32.baseEncode(concat(payload, sum))}`
}

/** The address's byte form (protocol byte ++ payload), as it appears in CBOR. */
export function addressToBytes(address: Address): Uint8Array {
  const { protocol, payload } = checked(address.protocol, address.payload, 'address')
  return concat(Uint8Array.of(protocol), payload)
}

/** Reads an address's byte form. Throws {@link InvalidAddressError} on an empty or invalid one. */
export function addressFromBytes(bytes: Uint8Array): Address {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new InvalidAddressError('address bytes are empty')
  const protocol = bytes[0]
  if (protocol > 4) throw new InvalidAddressError(`address bytes: unknown protocol ${protocol}`)
  return checked(protocol as Protocol, Uint8Array.from(bytes.subarray(1)), 'address bytes')
}

/** The ID address `f0<n>`. */
export function idAddress(id: bigint): Address {
  if (typeof id !== 'bigint' || id < 0n || id > MAX_INT64) throw new InvalidAddressError(`ID ${id} is not in [0, 2^63)`)
  return { protocol: 0, payload: encodeUvarint(id) }
}

/** The actor (f2) address whose payload is blake2b-160 of `data` (what the init actor assigns). */
export function actorAddress(data: Uint8Array): Address {
  return { protocol: 2, payload: blake2b(data, { dkLen: PAYLOAD_HASH_LENGTH }) }
}

/** The secp256k1 (f1) address of an uncompressed 65-byte public key. */
export function secp256k1Address(publicKey: Uint8Array): Address {
  return { protocol: 1, payload: blake2b(publicKey, { dkLen: PAYLOAD_HASH_LENGTH }) }
}

/** The actor id of an f0 address; undefined for other protocols. */
export function addressId(address: Address): bigint | undefined {
  if (address.protocol !== 0) return undefined
  const id = decodeUvarint(address.payload)
  return typeof id === 'string' ? undefined : id.value
}

/** Whether two addresses are the same (protocol and payload). */
export function addressEquals(a: Address, b: Address): boolean {
  return a.protocol === b.protocol && bytesEqual(a.payload, b.payload)
}
