/**
 * Byte sizes as go-humanize's ParseBytes reads them ("1GiB", "1 GB", "1.5gb", "1000000000":
 * SI units are powers of 1000, IEC units powers of 1024, case-insensitive, "B" optional) and
 * durations as Go's time.ParseDuration ("1h30m", "2m30s", "500ms", "1.5h").
 */
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  p: 1e15,
  pb: 1e15,
  e: 1e18,
  eb: 1e18,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
  pi: 2 ** 50,
  pib: 2 ** 50,
  ei: 2 ** 60,
  eib: 2 ** 60
}

export class UnitError extends Error {
  static override name = 'UnitError'
  override name = 'UnitError'
}

export function parseByteSize(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new UnitError(`${text} is not a byte size`)
    return Math.floor(text)
  }
  const m = /^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$/.exec(text.replaceAll(',', ''))
  const factor = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined
  if (m === null || factor === undefined) {
    throw new UnitError(`"${text}" is not a byte size (e.g. 1GiB, 1 GB, 1000000000)`)
  }
  return Math.floor(Number(m[1]) * factor)
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000
}

/**
 * Milliseconds. A bare number is refused (unless 0): Go would read it as nanoseconds, which is
 * never what an operator meant by `retrieval-timeout: 60`.
 */
export function parseDuration(text: string | number): number {
  if (text === 0 || text === '0') return 0
  if (typeof text === 'number') {
    throw new UnitError(`${text} has no unit; write a duration such as ${text}s, 1m30s or 500ms`)
  }
  let rest = text.trim()
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === '') throw new UnitError(`"${text}" is not a duration (e.g. 1h30m, 2m30s, 500ms)`)
  let total = 0
  const re = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/
  while (rest.length > 0) {
    const m = re.exec(rest)
    if (m === null) throw new UnitError(`"${text}" is not a duration (e.g. 1h30m, 2m30s, 500ms)`)
    total += Number(m[1]) * DURATION_UNITS[m[2]]
    rest = rest.slice(m[0].length)
  }
  if (sign < 0) throw new UnitError(`"${text}" is negative; durations here must be positive`)
  return total
}

/** Go-style duration text: 90000 -> "1m30s", 500 -> "500ms", 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${+ms.toFixed(3)}ms`
  let rest = ms
  let out = ''
  const h = Math.floor(rest / 3_600_000)
  rest -= h * 3_600_000
  const m = Math.floor(rest / 60_000)
  rest -= m * 60_000
  const s = rest / 1000
  if (h > 0) out += `${h}h`
  if (h > 0 || m > 0) out += `${m}m`
  if (s > 0 || out === '') out += `${+s.toFixed(3)}s`
  return out.replace(/^(\d+h)0m$/, '$1').replace(/m0s$/, 'm')
}

/** The shortest exact form: 1073741824 -> "1GiB", 1e9 -> "1GB", 1234 -> "1234B". */
export function formatByteSize(n: number): string {
  if (n === 0) return '0'
  for (const [unit, f] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
    ['TB', 1e12],
    ['GB', 1e9],
    ['MB', 1e6],
    ['kB', 1e3]
  ] as const) {
    if (n >= f && n % f === 0) return `${n / f}${unit}`
  }
  return `${n}B`
}
