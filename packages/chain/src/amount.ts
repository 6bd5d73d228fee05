// Token amounts. In code they are attoFIL bigints (1 FIL = 10^18 attoFIL). In text a bare integer
// is attoFIL (as in JSON, the database and Lotus' big-int strings); a decimal point or a `FIL`
// suffix means FIL, as operators write caps ("0.01 FIL", "0.5"); `attoFIL` can be spelled out.
import { InvalidAmountError } from './errors.ts'

const ATTO_PER_FIL = 10n ** 18n
const DECIMALS = 18
const AMOUNT = /^([0-9]+)(?:\.([0-9]*))?\s*(fil|attofil|afil)?$/i
const MAX_AMOUNT_CHARS = 100

/**
 * Parses "0.01 FIL", "0.01", "1 FIL", "10000 attoFIL" or "10000" (attoFIL) to attoFIL. Negative
 * amounts and more than 18 decimal places of FIL are refused with {@link InvalidAmountError}.
 */
export function parseFil(text: string): bigint {
  const trimmed = typeof text === 'string' ? text.trim() : ''
  const match = trimmed.length <= MAX_AMOUNT_CHARS ? AMOUNT.exec(trimmed) : null
  if (match === null) {
    throw new InvalidAmountError(
      `amount ${JSON.stringify(String(text).slice(0, MAX_AMOUNT_CHARS))} is not a number of FIL ("0.01 FIL", "0.5") or attoFIL ("10000")`
    )
  }
  const [, whole, fraction, unit] = match
  const atto = unit !== undefined && unit.toLowerCase() !== 'fil'
  if (atto || (fraction === undefined && unit === undefined)) {
    if (fraction !== undefined) throw new InvalidAmountError(`amount ${trimmed}: attoFIL has no fractional part`)
    return BigInt(whole)
  }
  const digits = (fraction ?? '').replace(/0+$/, '')
  if (digits.length > DECIMALS) throw new InvalidAmountError(`amount ${trimmed}: FIL has at most 18 decimal places`)
  return BigInt(whole) * ATTO_PER_FIL + BigInt(digits.padEnd(DECIMALS, '0') || '0')
}

/** Formats attoFIL as Lotus prints FIL: "0.01 FIL", "1 FIL", "0 FIL", trailing zeros dropped. */
export function formatFil(atto: bigint): string {
  const negative = atto < 0n
  const magnitude = negative ? -atto : atto
  const whole = magnitude / ATTO_PER_FIL
  const fraction = (magnitude % ATTO_PER_FIL).toString().padStart(DECIMALS, '0').replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`} FIL`
}
