// Unsigned LEB128 varints as go-varint reads them for ID and delegated addresses: minimal form
// only, at most 9 bytes, and (for addresses) below 2^63.

const MAX_BYTES = 9

/** The varint bytes of `value` (0 <= value < 2^64). */
export function encodeUvarint(value: bigint): Uint8Array {
  const out: number[] = []
  let v = value
  do {
    let byte = Number(v & 0x7fn)
    v >>= 7n
    if (v > 0n) byte |= 0x80
    out.push(byte)
  } while (v > 0n)
  return Uint8Array.from(out)
}

/**
 * Reads a varint at the start of `bytes`: its value and byte length, or an error string when it is
 * truncated, longer than 9 bytes or not minimal (go-varint rejects those too).
 */
export function decodeUvarint(bytes: Uint8Array): { value: bigint; length: number } | string {
  let value = 0n
  for (let i = 0; i < bytes.length && i < MAX_BYTES; i++) {
    const byte = bytes[i]
    value |= BigInt(byte & 0x7f) << BigInt(7 * i)
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) return 'varint is not minimally encoded'
      return { value, length: i + 1 }
    }
  }
  return bytes.length >= MAX_BYTES ? 'varint is longer than 9 bytes' : 'varint is truncated'
}
