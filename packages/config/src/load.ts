import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml'
import type { z } from 'zod'
import { CONFIG_FILE } from './constants.ts'
import { ConfigError } from './errors.ts'
import { defaults, KEYS, type KeySpec, MINER_KEYS, TOP_LEVEL_NAMES } from './keys.ts'
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
  if (text !== undefined) applyYaml(config, text, configPath)
  applyEnv(config, env)
  applyFlags(config, flags)
  return { config, configPath, created }
}

/** Parses config.yaml text onto `config`. Exported for tests and `reload`. */
export function applyYaml(config: AutoretrieveConfig, text: string, file: string): void {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true })
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : undefined)
  const firstError = doc.errors[0]
  if (firstError !== undefined) {
    const line = firstError.linePos?.[0].line
    throw new ConfigError(`${file}:${line ?? '?'}: invalid YAML: ${firstError.message.split('\n')[0]}`, { file, line })
  }
  if (doc.contents === null) return
  if (!isMap(doc.contents)) throw new ConfigError(`${file}:1: the config must be a map of keys`, { file, line: 1 })
  const seen = new Map<string, string>()
  let minerConfigsNode: Node | null = null
  for (const pair of (doc.contents as YAMLMap).items) {
    const keyNode = pair.key as Node
    const key = String(isScalar(keyNode) ? keyNode.value : keyNode)
    const line = lineOf(keyNode)
    const where = { key, file, line }
    const at = `${file}:${line}: ${key}`
    if (!TOP_LEVEL_NAMES.includes(key)) {
      const hint = suggest(key, TOP_LEVEL_NAMES)
      throw new ConfigError(`${at}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`, where)
    }
    const valueNode = pair.value as Node | null
    if (key === 'default-miner-config') {
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
    const value = valueNode === null ? null : (doc.contents as YAMLMap).get(key, false)
    assign(
      config,
      spec,
      toJs(value),
      at,
      where,
      isSeq(valueNode) ? (i) => lineOf(valueNode.items[i] as Node) : undefined
    )
  }
  readMinerConfigs(config, minerConfigsNode, file, lineOf)
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
  ;(config as unknown as Record<string, unknown>)[spec.field] = parsed.data
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
  lineOf: (n: Node | null | undefined) => number | undefined
): MinerConfig {
  const out = { ...base }
  if (node === null || (isScalar(node) && node.value === null)) return out
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
    const parsed = spec.schema.safeParse(toJs(pair.value))
    if (!parsed.success) {
      throw new ConfigError(`${file}:${line}: ${full}: ${describe(toJs(pair.value), parsed.error.issues[0])}`, {
        key: full,
        file,
        line
      })
    }
    out[spec.field] = parsed.data as number
  }
  return out
}

function readMinerConfigs(
  config: AutoretrieveConfig,
  node: Node | null,
  file: string,
  lineOf: (n: Node | null | undefined) => number | undefined
): void {
  if (node === null || (isScalar(node) && node.value === null)) return
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
      lineOf
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
