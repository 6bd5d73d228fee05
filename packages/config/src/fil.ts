/**
 * FIL amounts in config.yaml: a bare integer is attoFIL ("10000000000000000"), a decimal or a
 * "FIL" suffix is FIL ("0.01", "0.01 FIL"), an "attoFIL" suffix attoFIL. Placeholder until
 * @autoretrieve/chain's parseFil lands (same rule).
 */
export function parseFil(text: string): bigint {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*(fil|attofil)?\s*$/i.exec(text)
  if (m === null) throw new Error(`"${text}" is not an amount (attoFIL, or e.g. "0.01 FIL")`)
  const unit = m[3]?.toLowerCase()
  if (unit === 'attofil' || (unit === undefined && m[2] === undefined)) {
    if (m[2] !== undefined) throw new Error(`"${text}": attoFIL has no fractions`)
    return BigInt(m[1])
  }
  const frac = m[2] ?? ''
  if (frac.length > 18) throw new Error(`"${text}": FIL has at most 18 decimals`)
  return BigInt(m[1]) * 10n ** 18n + BigInt(frac.padEnd(18, '0'))
}

export function formatFil(atto: bigint): string {
  const whole = atto / 10n ** 18n
  const frac = (atto % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '')
  return `${whole}${frac === '' ? '' : `.${frac}`} FIL`
}
