// Filecoin big-int bytes (go-state-types big.Int.Bytes): zero is the empty string; otherwise a sign
// byte (0x00 positive, 0x01 negative) followed by the big-endian magnitude.
import { InvalidBigIntBytesError } from './errors.ts'

/** Encodes a token amount (attoFIL, PaymentOwed…) as Filecoin big-int bytes. */
export function encodeBigIntBytes(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0)
  let magnitude = value < 0n ? -value : value
  const digits: number[] = []
  while (magnitude > 0n) {
    digits.push(Number(magnitude & 0xffn))
    magnitude >>= 8n
  }
  const out = new Uint8Array(digits.length + 1)
  out[0] = value < 0n ? 1 : 0
  for (let i = 0; i < digits.length; i++) out[digits.length - i] = digits[i]
  return out
}

/**
 * Decodes Filecoin big-int bytes. Empty is zero; a first byte other than 0x00/0x01 throws
 * {@link InvalidBigIntBytesError}. Leading zero bytes in the magnitude are accepted (Go's
 * decoder accepts them too).
 */
export function decodeBigIntBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n
  const sign = bytes[0]
  if (sign !== 0 && sign !== 1) {
    throw new InvalidBigIntBytesError(
      `big-int bytes start with 0x${sign.toString(16).padStart(2, '0')}, not a sign byte`
    )
  }
  let magnitude = 0n
  for (let i = 1; i < bytes.length; i++) magnitude = (magnitude << 8n) | BigInt(bytes[i])
  return sign === 1 ? -magnitude : magnitude
}
