import { join } from 'node:path'
import { ADMIN_TOKEN_FILE, type AutoretrieveConfig } from '@autoretrieve/config'
import type { PolicySnapshot } from '@autoretrieve/policy'
import type { Logger } from './logger.ts'

/** What a start-up summary names, as JSON consumers get it (the `start` field of its first line). */
export interface StartFacts {
  instance: string
  peerId: string
  listen: string[]
  /** The public trustless gateway's base URL (`…/ipfs/`); null when gateway-listen is empty. */
  gateway: string | null
  /** The admin console's URL. */
  console: string
  /** Where the console's bearer token is read from: the file, or the config key that sets it. */
  tokenFile: string | null
  /** The embedded database's directory, or the PostgreSQL URL with its password redacted. */
  database: { kind: 'pglite' | 'postgres'; location: string }
  policyVersion: number
}

export function startFacts(
  config: AutoretrieveConfig,
  parts: {
    peerId: string
    multiaddrs: string[]
    adminUrl: string
    /** The gateway listener's URL; absent when it is off. */
    gatewayUrl?: string
    storeKind: 'pglite' | 'postgres'
    policy: PolicySnapshot
  }
): StartFacts {
  return {
    instance: config.instanceName,
    peerId: parts.peerId,
    listen: parts.multiaddrs,
    gateway: parts.gatewayUrl === undefined ? null : `${parts.gatewayUrl}/ipfs/`,
    console: `${parts.adminUrl}/`,
    tokenFile: config.adminToken === '' ? join(config.dataDir, ADMIN_TOKEN_FILE) : null,
    database: {
      kind: parts.storeKind,
      location: parts.storeKind === 'pglite' ? join(config.dataDir, 'db') : redactUrl(config.databaseUrl)
    },
    policyVersion: parts.policy.version
  }
}

/** A URL with its password replaced by ***: safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '<database url that does not parse>'
  }
}

/**
 * The start-up summary: one line naming the instance (with every fact under `start` for JSON
 * readers), then one line per fact, aligned, for a person at a terminal.
 */
export function logStart(logger: Logger, facts: StartFacts, policy: PolicySnapshot): void {
  const rows: Array<[string, string]> = [['peer ID', facts.peerId]]
  for (const addr of facts.listen) rows.push(['listening', addr])
  rows.push(['gateway', facts.gateway ?? 'off (gateway-listen is empty)'])
  rows.push([
    'console',
    `${facts.console}  (admin token: ${facts.tokenFile ?? 'set by admin-token in config or AUTORETRIEVE_ADMIN_TOKEN'})`
  ])
  rows.push([
    'database',
    facts.database.kind === 'pglite'
      ? `embedded PGlite in ${facts.database.location}`
      : `PostgreSQL ${facts.database.location}`
  ])
  const layer = policy.configLayer
  rows.push([
    'policy',
    `version ${policy.version}${layer ? `; config.yaml layer from instance "${layer.instance}" (${layer.file}), stored at version ${layer.version}` : ''}`
  ])
  logger.info({ start: facts }, `autoretrieve is running as instance "${facts.instance}"`)
  for (const [name, value] of rows) logger.info(`  ${name.padEnd(10)} ${value}`)
}
