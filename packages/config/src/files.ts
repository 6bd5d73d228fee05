import { randomBytes } from 'node:crypto'
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parseDocument } from 'yaml'
import { ADMIN_TOKEN_FILE } from './constants.ts'
import { ConfigError, ConfigExistsError } from './errors.ts'
import { KEYS } from './keys.ts'
import type { AutoretrieveConfig } from './types.ts'

/** Writes config.yaml (0600, the file can hold tokens); refuses to overwrite unless forced. */
export async function writeConfigYaml(path: string, text: string, opts: { force?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  try {
    await writeFile(path, text, { flag: opts.force ? 'w' : 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConfigExistsError(`${path} exists; use --force to overwrite it`, { cause: err })
    }
    throw err
  }
}

/**
 * Sets keys in config.yaml, keeping its comments and order (register-estuary stores what Estuary
 * gave). The file is replaced atomically at mode 0600: it holds tokens.
 */
export async function updateConfigKeys(
  path: string,
  updates: Record<string, string | number | boolean>
): Promise<void> {
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const doc = parseDocument(text)
  if (doc.errors.length > 0)
    throw new ConfigError(`${path}: invalid YAML, not updated: ${doc.errors[0].message}`, { file: path })
  for (const [key, value] of Object.entries(updates)) {
    // A file written for the Go node may use the old name (estuary-url): update that one, so
    // the file never names the same setting twice (which the loader refuses).
    const spec = KEYS.find((k) => k.key === key)
    const present = [key, ...(spec?.aliases ?? [])].filter((name) => doc.has(name))
    doc.set(present[0] ?? key, value)
    for (const other of present.slice(1)) doc.delete(other)
  }
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, doc.toString({ lineWidth: 0 }), { mode: 0o600 })
  // mode applies only to a new file: a leftover from a crash keeps whatever it had.
  await chmod(tmp, 0o600)
  await rename(tmp, path)
}

/**
 * The admin token: `admin-token` from config/env when set, else `<data-dir>/admin-token`,
 * generated once (32 random bytes, hex) at mode 0600.
 */
export async function ensureAdminToken(config: AutoretrieveConfig): Promise<string> {
  if (config.adminToken !== '') return config.adminToken
  const path = join(config.dataDir, ADMIN_TOKEN_FILE)
  try {
    const existing = (await readFile(path, 'utf8')).trim()
    if (existing !== '') return existing
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString('hex')
  try {
    await writeFile(path, `${token}\n`, { flag: 'wx', mode: 0o600 })
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readFile(path, 'utf8')).trim()
    throw err
  }
  await chmod(path, 0o600)
  return token
}
