import { stringify } from 'yaml'
import { DEFAULT_LISTEN_ADDRS, DEFAULTS } from './constants.ts'
import { capYaml, KEYS, MINER_KEYS } from './keys.ts'
import type { AutoretrieveConfig, MinerConfig } from './types.ts'
import { formatByteSize, formatDuration } from './units.ts'

const REDACTED = '<redacted>'

function yamlValue(config: AutoretrieveConfig, spec: (typeof KEYS)[number], redact: boolean): unknown {
  const value = config[spec.field]
  if (redact && spec.secret && value !== '') {
    if (spec.field === 'databaseUrl') return redactUrl(String(value))
    return REDACTED
  }
  return spec.toYaml ? (spec.toYaml as (v: unknown) => unknown)(value) : value
}

/** A database URL with its password hidden, so print-config never leaks it. */
function redactUrl(text: string): string {
  try {
    const u = new URL(text)
    if (u.password) u.password = 'redacted'
    return u.toString()
  } catch {
    return REDACTED
  }
}

function minerYaml(m: MinerConfig): Record<string, unknown> {
  return {
    'retrieval-timeout': formatDuration(m.retrievalTimeoutMs),
    'max-concurrent-retrievals': m.maxConcurrentRetrievals,
    'max-bytes-per-second': m.maxBytesPerSecond === 0 ? 0 : formatByteSize(m.maxBytesPerSecond),
    'first-byte-timeout': formatDuration(m.firstByteTimeoutMs),
    'max-price-per-byte': capYaml(m.maxPricePerByte),
    'max-unseal-price': capYaml(m.maxUnsealPrice),
    'max-retrieval-cost': capYaml(m.maxRetrievalCost)
  }
}

/** The effective config as YAML that loads back to the same values (print-config). */
export function renderConfigYaml(config: AutoretrieveConfig, opts: { redact?: boolean } = {}): string {
  const out: Record<string, unknown> = {}
  for (const spec of KEYS) out[spec.key] = yamlValue(config, spec, opts.redact ?? true)
  out['default-miner-config'] = minerYaml(config.defaultMinerConfig)
  out['miner-configs'] = Object.fromEntries(Object.entries(config.minerConfigs).map(([p, m]) => [p, minerYaml(m)]))
  return `# data dir: ${config.dataDir}\n${stringify(out, { lineWidth: 0 })}`
}

/** The default config.yaml: every key with its default and a one-line comment. */
export function defaultConfigYaml(): string {
  const config: AutoretrieveConfig = {
    ...structuredClone(DEFAULTS),
    listenAddrs: [...DEFAULT_LISTEN_ADDRS],
    dataDir: ''
  }
  const lines = ['# autoretrieve config. Precedence: this file < environment < flags.', '']
  for (const spec of KEYS) {
    lines.push(`# ${spec.doc}`)
    lines.push(stringify({ [spec.key]: yamlValue(config, spec, false) }, { lineWidth: 0 }).trimEnd())
  }
  lines.push('# per-provider limits, unless a provider has its own below')
  lines.push('default-miner-config:')
  const dm = minerYaml(config.defaultMinerConfig)
  for (const k of MINER_KEYS) {
    lines.push(`  # ${k.doc}`)
    lines.push(`  ${k.key}: ${dm[k.key]}`)
  }
  lines.push('# per-provider overrides, keyed by peer ID or f0… address, e.g.')
  lines.push('#   f01234:')
  lines.push('#     max-concurrent-retrievals: 3')
  lines.push('miner-configs: {}')
  return `${lines.join('\n')}\n`
}
