// A reader of the Prometheus text exposition format (0.0.4) for tests: strict, so a line the
// format does not allow fails the test rather than being skipped.
import assert from 'node:assert/strict'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Exposition {
  /** Family name -> type, from the `# TYPE` lines. */
  types: Map<string, string>
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
// A value is what Go's strconv.ParseFloat reads, so NaN and Inf in any case (prom-client writes `Nan`).
const VALUE = '[-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)'
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (${VALUE})(?: -?[0-9]+)?$`)
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y

/** Parses the Prometheus text exposition format (0.0.4), failing on any line it does not allow. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline')
  for (const line of text.split('\n')) {
    if (line === '') continue
    if (line.startsWith('#')) {
      const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line)
      if (meta?.[1] === 'TYPE') {
        assert.match(meta[3], /^(counter|gauge|histogram|summary|untyped)$/, line)
        assert.ok(!types.has(meta[2]), `TYPE given twice for ${meta[2]}`)
        types.set(meta[2], meta[3])
      }
      continue
    }
    const m = SAMPLE_LINE.exec(line)
    assert.ok(m, `not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    if (m[2] !== undefined && m[2] !== '') {
      LABEL.lastIndex = 0
      while (LABEL.lastIndex < m[2].length) {
        const at = LABEL.lastIndex
        const l = LABEL.exec(m[2])
        assert.ok(l, `bad label set at ${at}: ${line}`)
        labels[l[1]] = l[2]
        if (l[3] === '') break
      }
    }
    const v = m[3].toLowerCase().replace(/^\+/, '')
    const value = v.endsWith('nan')
      ? Number.NaN
      : v.includes('inf')
        ? v.startsWith('-')
          ? -Infinity
          : Infinity
        : Number(v)
    samples.push({ name: m[1], labels, value })
  }
  return { types, samples }
}

/** The value of the first sample named `name` whose labels include `labels`; undefined when none. */
export function sampleValue(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}
