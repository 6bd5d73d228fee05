import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml'
import type { z } from 'zod'
import { CONFIG_FILE } from './constants.ts'
import { ConfigError } from './errors.ts'
import {
  ACCEPTED_NAMES,
  CAP_KEYS,
  type ConfigWarning,
  defaults,
  KEYS,
  type KeySpec,
  LEGACY_KEYS,
  type LegacyKeySpec,
  MINER_KEYS,
  TOP_LEVEL_NAMES
} from './keys.ts'
import { defaultConfigYaml } from './render.ts'
import { suggest } from './suggest.ts'
import type { AutoretrieveConfig, ConfigFlags, LoadedConfig, MinerConfig } from './types.ts'
import * as v from './values.ts'

/** flag > AUTORETRIEVE_DATA_DIR > ~/.autoretrieve (./.autoretrieve when there is no home). */
export function resolveDataDir(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): string {
  const given = flags.dataDir ?? env.AUTORETRIEVE_DATA_DIR
  if (given !== undefined && given !== '') return expandHome(given)
  let home = ''
  try {
    home = env.HOME ?? homedir()
  } catch {}
  return home ? join(home, '.autoretrieve') : resolve('.autoretrieve')
}

function expandHome(p: string): string {
  if (p === '~' || p.startsWith('~/')) return join(homedir(), p.slice(1))
  return isAbsolute(p) ? p : resolve(p)
}

/**
 * The effective config: defaults < config.yaml < environment < flags. On first run (no
 * config.yaml) it creates the data dir (0700) and writes the defaults, unless told not to.
 */
export async function loadConfig(
  opts: { flags?: ConfigFlags; env?: NodeJS.ProcessEnv; createIfMissing?: boolean } = {}
): Promise<LoadedConfig> {
  const flags = opts.flags ?? {}
  const env = opts.env ?? process.env
  const dataDir = resolveDataDir(flags, env)
  const configPath = join(dataDir, CONFIG_FILE)
  let text: string | undefined
  try {
    text = await readFile(configPath, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT')
      throw new ConfigError(`${configPath}: cannot read (${code})`, { file: configPath }, { cause: err })
  }
  let created = false
  if (text === undefined && opts.createIfMissing !== false) {
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      text = defaultConfigYaml()
      await writeFile(configPath, text, { flag: 'wx', mode: 0o600 })
      created = true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') text = await readFile(configPath, 'utf8')
      else throw new ConfigError(`data dir ${dataDir} is not writable (${code})`, { file: configPath }, { cause: err })
    }
  }
  const config = defaults(dataDir)
  const warnings = text !== undefined ? applyYaml(config, text, configPath) : []
  applyEnv(config, env)
  applyFlags(config, flags)
  return { config, configPath, created, warnings }
}

/**
 * Parses config.yaml text onto `config`. Exported for tests and `reload`. A key set to nothing
 * (`key:` or `~`, YAML null) is unset and keeps its default, as the Go node read it. Returns the
 * warnings for keys of earlier Go releases that load but do nothing here.
 */
export function applyYaml(config: AutoretrieveConfig, text: string, file: string): ConfigWarning[] {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : undefined)
  const firstError = doc.errors[0]
  if (firstError !== undefined) {
    const line = firstError.linePos?.[0].line
    throw new ConfigError(`${file}:${line ?? '?'}: invalid YAML: ${firstError.message.split('\n')[0]}`, { file, line })
  }
  if (doc.contents === null) return []
  if (!isMap(doc.contents)) throw new ConfigError(`${file}:1: the config must be a map of keys`, { file, line: 1 })
  const seen = new Map<string, string>()
  const legacy: Array<{ spec: LegacyKeySpec; value: unknown; line?: number }> = []
  let minerConfigsNode: Node | null = null
  let defaultMinerNode: Node | null = null
  const topCaps: Array<{ key: (typeof CAP_KEYS)[number]; node: Node; line?: number }> = []
  for (const pair of (doc.contents as YAMLMap).items) {
    const keyNode = pair.key as Node
    const key = String(isScalar(keyNode) ? keyNode.value : keyNode)
    const line = lineOf(keyNode)
    const where = { key, file, line }
    const at = `${file}:${line}: ${key}`
    if (!ACCEPTED_NAMES().includes(key)) {
      const hint = suggest(key, TOP_LEVEL_NAMES)
      throw new ConfigError(`${at}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`, where)
    }
    const valueNode = pair.value as Node | null
    if (isNull(valueNode)) continue
    const old = LEGACY_KEYS.find((k) => k.key === key)
    if (old !== undefined) {
      legacy.push({ spec: old, value: toJs((doc.contents as YAMLMap).get(key, false)), line })
      continue
    }
    if ((CAP_KEYS as readonly string[]).includes(key)) {
      // For every provider: default-miner-config's, applied after the loop (see below).
      topCaps.push({ key: key as (typeof CAP_KEYS)[number], node: valueNode as Node, line })
      continue
    }
    if (key === 'default-miner-config') {
      defaultMinerNode = valueNode
      config.defaultMinerConfig = readMinerConfig(valueNode, config.defaultMinerConfig, key, file, lineOf)
      continue
    }
    if (key === 'miner-configs') {
      // Read after the loop: each entry is filled in from default-miner-config, wherever that stands.
      minerConfigsNode = valueNode
      continue
    }
    const spec = KEYS.find((k) => k.key === key || k.aliases?.includes(key))!
    const other = seen.get(spec.key)
    if (other !== undefined) throw new ConfigError(`${at}: sets the same thing as "${other}" above`, where)
    seen.set(spec.key, key)
    const value = (doc.contents as YAMLMap).get(key, false)
    assign(
      config,
      spec,
      toJs(value),
      at,
      where,
      isSeq(valueNode) ? (i) => lineOf(valueNode.items[i] as Node) : undefined
    )
  }
  applyTopCaps(config, topCaps, defaultMinerNode, file)
  readMinerConfigs(config, minerConfigsNode, file, lineOf)
  return applyLegacy(config, legacy, seen, file)
}

/**
 * The price caps written at the top level are default-miner-config's, so miner-configs entries
 * inherit them; naming one in both places is refused rather than one silently winning.
 */
function applyTopCaps(
  config: AutoretrieveConfig,
  caps: Array<{ key: (typeof CAP_KEYS)[number]; node: Node; line?: number }>,
  defaultMinerNode: Node | null,
  file: string
): void {
  for (const { key, node, line } of caps) {
    if (isMap(defaultMinerNode) && defaultMinerNode.has(key)) {
      throw new ConfigError(`${file}:${line}: ${key}: sets the same thing as default-miner-config.${key}`, {
        key,
        file,
        line
      })
    }
    const spec = MINER_KEYS.find((k) => k.key === key)!
    const raw = toJs(node)
    const parsed = spec.schema.safeParse(raw)
    if (!parsed.success)
      throw new ConfigError(`${file}:${line}: ${key}: ${describe(raw, parsed.error.issues[0])}`, { key, file, line })
    const next: Record<string, unknown> = { ...config.defaultMinerConfig }
    if (parsed.data === undefined) delete next[spec.field]
    else next[spec.field] = parsed.data
    config.defaultMinerConfig = next as unknown as MinerConfig
  }
}

/** `key:` with no value, or `~`: YAML null, which the Go node read as "not set". */
function isNull(node: Node | null | undefined): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null)
}

/**
 * Keys of earlier Go releases, applied after the current ones so that a current key wins
 * whatever the order in the file: one with a current equivalent takes effect unless that key is
 * set too (then it is ignored with a warning); one without has no effect and warns once.
 */
function applyLegacy(
  config: AutoretrieveConfig,
  legacy: Array<{ spec: LegacyKeySpec; value: unknown; line?: number }>,
  seen: Map<string, string>,
  file: string
): ConfigWarning[] {
  const warnings: ConfigWarning[] = []
  for (const { spec, value, line } of legacy) {
    const where = { key: spec.key, file, line }
    const at = `${file}:${line}: ${spec.key}`
    if (spec.sameAs === undefined) {
      warnings.push({ ...where, message: `${at}: a Go autoretrieve key with no effect here: ${spec.why}` })
      continue
    }
    const current = seen.get(spec.sameAs)
    if (current !== undefined) {
      warnings.push({ ...where, message: `${at}: ignored, "${current}" is set (its newer name)` })
      continue
    }
    const target = KEYS.find((k) => k.key === spec.sameAs)!
    assign(config, target, spec.convert ? spec.convert(value) : value, at, where)
    seen.set(spec.sameAs, spec.key)
  }
  return warnings
}

function toJs(value: unknown): unknown {
  return value !== null && typeof value === 'object' && 'toJSON' in value
    ? (value as { toJSON(): unknown }).toJSON()
    : value
}

function assign(
  config: AutoretrieveConfig,
  spec: KeySpec,
  raw: unknown,
  at: string,
  where: { key?: string; file?: string; line?: number },
  itemLine?: (index: number) => number | undefined
): void {
  const parsed = spec.schema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const index = typeof issue.path[0] === 'number' ? issue.path[0] : undefined
    const line = index !== undefined && itemLine ? itemLine(index) : where.line
    const item = index !== undefined && Array.isArray(raw) ? raw[index] : raw
    const prefix = where.file ? `${where.file}:${line}: ${where.key}` : at
    throw new ConfigError(`${prefix}: ${describe(item, issue)}`, { ...where, line })
  }
  if (parsed.data === undefined) delete (config as unknown as Record<string, unknown>)[spec.field]
  else (config as unknown as Record<string, unknown>)[spec.field] = parsed.data
}

function describe(value: unknown, issue: z.core.$ZodIssue): string {
  const msg = issue.message
  if (/^(is|must|needs|has) /.test(msg)) return `${JSON.stringify(value)} ${msg}`
  if (issue.code === 'invalid_type' || issue.code === 'invalid_union')
    return `${JSON.stringify(value)} is not a valid value here`
  return msg
}

function readMinerConfig(
  node: Node | null,
  base: MinerConfig,
  path: string,
  file: string,
  lineOf: (n: Node | null | undefined) => number | undefined,
  zeroInherits = false
): MinerConfig {
  const out = { ...base }
  if (isNull(node)) return out
  if (!isMap(node))
    throw new ConfigError(`${file}:${lineOf(node)}: ${path}: must be a map`, { key: path, file, line: lineOf(node) })
  for (const pair of node.items) {
    const keyNode = pair.key as Node
    const key = String(isScalar(keyNode) ? keyNode.value : keyNode)
    const line = lineOf(keyNode)
    const spec = MINER_KEYS.find((k) => k.key === key)
    const full = `${path}.${key}`
    if (spec === undefined) {
      const hint = suggest(
        key,
        MINER_KEYS.map((k) => k.key)
      )
      throw new ConfigError(`${file}:${line}: ${full}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`, {
        key: full,
        file,
        line
      })
    }
    if (isNull(pair.value as Node | null)) continue
    const parsed = spec.schema.safeParse(toJs(pair.value))
    if (!parsed.success) {
      throw new ConfigError(`${file}:${line}: ${full}: ${describe(toJs(pair.value), parsed.error.issues[0])}`, {
        key: full,
        file,
        line
      })
    }
    // Go (lassie's getMinerConfig): a per-provider 0 is "not set" and the default applies.
    if (zeroInherits && parsed.data === 0) continue
    // A cap of `none` is no cap: the field is left out, as an unset one is.
    if (parsed.data === undefined) delete (out as Record<string, unknown>)[spec.field]
    else (out as Record<string, unknown>)[spec.field] = parsed.data
  }
  return out
}

function readMinerConfigs(
  config: AutoretrieveConfig,
  node: Node | null,
  file: string,
  lineOf: (n: Node | null | undefined) => number | undefined
): void {
  if (isNull(node)) return
  if (!isMap(node))
    throw new ConfigError(`${file}:${lineOf(node)}: miner-configs: must be a map of provider to settings`, {
      key: 'miner-configs',
      file,
      line: lineOf(node)
    })
  for (const pair of node.items) {
    const keyNode = pair.key as Node
    const provider = String(isScalar(keyNode) ? keyNode.value : keyNode)
    if (!v.isProviderId(provider)) {
      const line = lineOf(keyNode)
      throw new ConfigError(
        `${file}:${line}: miner-configs: "${provider}" is neither a peer ID nor a Filecoin address (f0…)`,
        { key: 'miner-configs', file, line }
      )
    }
    // Filled in from the default, as the Go node did: an absent field means the default's.
    config.minerConfigs[provider] = readMinerConfig(
      pair.value as Node | null,
      config.defaultMinerConfig,
      `miner-configs.${provider}`,
      file,
      lineOf,
      true
    )
  }
}

const ENV: Array<[string, string]> = [
  ['AUTORETRIEVE_LOOKUP_ENDPOINT_URL', 'lookup-endpoint-url'],
  ['AUTORETRIEVE_LOOKUP_ENDPOINT_TYPE', 'lookup-endpoint-type'],
  ['AUTORETRIEVE_DISABLE_RETRIEVAL', 'disable-retrieval'],
  ['AUTORETRIEVE_ROUTING_TABLE_TYPE', 'routing-table-type'],
  ['AUTORETRIEVE_LOG_RESOURCE_MANAGER', 'log-resource-manager'],
  ['DATABASE_URL', 'database-url'],
  ['AUTORETRIEVE_DATABASE_URL', 'database-url'],
  ['AUTORETRIEVE_ADMIN_LISTEN', 'admin-listen'],
  ['AUTORETRIEVE_LISTEN', 'listen-addrs'],
  ['AUTORETRIEVE_ADMIN_TOKEN', 'admin-token'],
  ['AUTORETRIEVE_LOG_FORMAT', 'log-format']
]

function applyEnv(config: AutoretrieveConfig, env: NodeJS.ProcessEnv): void {
  // Later entries win: AUTORETRIEVE_DATABASE_URL over DATABASE_URL.
  for (const [name, key] of ENV) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    const spec = KEYS.find((k) => k.key === key)!
    const value =
      key === 'listen-addrs'
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : raw
    assign(config, spec, value, `environment ${name}`, { key: name })
  }
  if (env.FULLNODE_API_INFO) config.fullnodeApiInfo = env.FULLNODE_API_INFO
  // Read apart from the table above, which skips empty values: here empty means "off".
  const gateway = env.AUTORETRIEVE_GATEWAY_LISTEN
  if (gateway !== undefined) {
    const spec = KEYS.find((k) => k.key === 'gateway-listen')!
    assign(config, spec, gateway.trim(), 'environment AUTORETRIEVE_GATEWAY_LISTEN', {
      key: 'AUTORETRIEVE_GATEWAY_LISTEN'
    })
  }
}

const FLAGS: Array<[keyof ConfigFlags, string, string]> = [
  ['lookupEndpointUrl', '--lookup-endpoint-url', 'lookup-endpoint-url'],
  ['lookupEndpointType', '--lookup-endpoint-type', 'lookup-endpoint-type'],
  ['disableRetrieval', '--disable-retrieval', 'disable-retrieval'],
  ['routingTableType', '--routing-table-type', 'routing-table-type'],
  ['logResourceManager', '--log-resource-manager', 'log-resource-manager'],
  ['databaseUrl', '--database-url', 'database-url'],
  ['adminListen', '--admin-listen', 'admin-listen'],
  ['listen', '--listen', 'listen-addrs'],
  ['gatewayListen', '--gateway-listen', 'gateway-listen'],
  ['logFormat', '--log-format', 'log-format']
]

function applyFlags(config: AutoretrieveConfig, flags: ConfigFlags): void {
  for (const [field, flag, key] of FLAGS) {
    const value = flags[field]
    if (value === undefined) continue
    assign(config, KEYS.find((k) => k.key === key)!, value, `flag ${flag}`, { key: flag })
  }
}

/** Whether a path exists (used by gen-config and tests). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
