import { cidKey } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import { createSnapshot } from './snapshot.ts'
import type {
  CidEntry,
  ConfigLayerInfo,
  EntrySource,
  MinerConfig,
  MinerConfigEntry,
  PolicySnapshot,
  ProviderEntry,
  RetrievalProtocol
} from './types.ts'

/** The policy config.yaml gives: the base layer. */
export interface ConfigPolicy {
  cidBlacklist: readonly string[]
  minerBlacklist: readonly string[]
  minerWhitelist: readonly string[]
  defaultMinerConfig: MinerConfig
  minerConfigs: Readonly<Record<string, MinerConfig>>
  retrievalProtocols: readonly RetrievalProtocol[]
  /** Where this layer is stored (the version that brought it, instance and file), when it is. */
  source?: ConfigLayerInfo
}

export type OverrideList = 'cid-deny' | 'provider-deny' | 'provider-allow'

/** What the admin API stored on top (the store's rows, structurally). */
export interface PolicyOverrides {
  version: number
  /** The version's own row: how, by whom and when it was made. */
  change?: {
    version: number
    origin: string
    instance: string
    summary: string
    reason: string | null
    createdAt: Date
  } | null
  entries: ReadonlyArray<
    {
      list: OverrideList
      value: string
      state: 'present' | 'removed'
      reason: string | null
    } & Provenance
  >
  minerConfigs: ReadonlyArray<
    {
      provider: string
      retrievalTimeoutMs: number | null
      maxConcurrentRetrievals: number | null
      maxBytesPerSecond: number | null
      /** Price caps: attoFIL as decimal text, 'none' for no cap, null to fall back. */
      maxPricePerByte?: string | null
      maxUnsealPrice?: string | null
      maxRetrievalCost?: string | null
      state: 'present' | 'removed'
    } & Provenance
  >
}

/** A stored row's version, the instance that made it and when (absent in hand-built overrides). */
interface Provenance {
  version?: number
  instance?: string
  changedAt?: Date
}

function sourceOf(row: Provenance): EntrySource | undefined {
  if (row.version === undefined || row.changedAt === undefined) return undefined
  return { version: row.version, instance: row.instance ?? '', at: row.changedAt.toISOString() }
}

/**
 * The merge rule between config.yaml and the admin API:
 *
 * 1. config.yaml's lists and miner configs are the base (origin `config`).
 * 2. An API entry in state `present` adds to its list (origin `api`); if config.yaml lists the same
 *    value already, the API entry wins for origin and reason.
 * 3. An API entry in state `removed` (a tombstone) hides the value even when config.yaml lists it,
 *    so `DELETE` works on every entry the operator sees, whatever its origin. Adding it again
 *    through the API clears the tombstone.
 * 4. Miner configs: an API config replaces the YAML one field by field (null fields fall back to
 *    the YAML entry, then to the default); a removed one hides the YAML entry. Provider `default`
 *    overrides default-miner-config the same way.
 * 5. The snapshot's version is the store's policy version, so every instance agrees on it.
 *    `base` is the config.yaml layer stored with the versions (see the policy service), not each
 *    instance's own file, so the same version means the same lists everywhere.
 */
export function mergePolicy(base: ConfigPolicy, overrides: PolicyOverrides): PolicySnapshot {
  // A value that is not a CID is its own key (cidKey's rule), so a stored one can still be removed.
  const keyFor = (list: OverrideList, value: string) => (list === 'cid-deny' ? cidKey(value) : value)
  type Listed = { value: string; origin: 'config' | 'api'; reason?: string; added?: EntrySource }
  const lists = {
    'cid-deny': new Map<string, Listed>(),
    'provider-deny': new Map<string, Listed>(),
    'provider-allow': new Map<string, Listed>()
  }
  const layer = base.source
  const configAdded: EntrySource | undefined =
    layer === undefined
      ? undefined
      : { version: layer.version, instance: layer.instance, at: layer.at, file: layer.file }
  const withAdded = <T extends object>(entry: T, added: EntrySource | undefined): T & { added?: EntrySource } =>
    added === undefined ? entry : { ...entry, added }
  const seed = (list: OverrideList, values: readonly string[]) => {
    for (const value of values)
      lists[list].set(keyFor(list, value), withAdded({ value, origin: 'config' }, configAdded))
  }
  seed('cid-deny', base.cidBlacklist)
  seed('provider-deny', base.minerBlacklist)
  seed('provider-allow', base.minerWhitelist)
  for (const entry of overrides.entries) {
    const key = keyFor(entry.list, entry.value)
    if (entry.state === 'removed') lists[entry.list].delete(key)
    else
      lists[entry.list].set(
        key,
        withAdded({ value: entry.value, origin: 'api', reason: entry.reason ?? undefined }, sourceOf(entry))
      )
  }

  let defaultMinerConfig = { ...base.defaultMinerConfig }
  const minerConfigs = new Map<string, MinerConfigEntry>()
  for (const [provider, cfg] of Object.entries(base.minerConfigs)) {
    minerConfigs.set(provider, withAdded({ provider, origin: 'config', ...cfg }, configAdded))
  }
  const apiDefault = overrides.minerConfigs.find((m) => m.provider === 'default' && m.state === 'present')
  if (apiDefault !== undefined) defaultMinerConfig = fill(apiDefault, defaultMinerConfig)
  for (const m of overrides.minerConfigs) {
    if (m.provider === 'default') continue
    if (m.state === 'removed') {
      minerConfigs.delete(m.provider)
      continue
    }
    const under = minerConfigs.get(m.provider) ?? defaultMinerConfig
    minerConfigs.set(m.provider, withAdded({ provider: m.provider, origin: 'api', ...fill(m, under) }, sourceOf(m)))
  }

  const cids: CidEntry[] = [...lists['cid-deny'].values()].map((e) =>
    withAdded({ cid: e.value, origin: e.origin, reason: e.reason }, e.added)
  )
  const providers = (list: OverrideList): ProviderEntry[] =>
    [...lists[list].values()].map((e) => withAdded({ provider: e.value, origin: e.origin, reason: e.reason }, e.added))
  const c = overrides.change ?? undefined
  return createSnapshot({
    version: overrides.version,
    deniedCids: cids.filter((e) => isParsableCid(e.cid)),
    deniedProviders: providers('provider-deny'),
    allowedProviders: providers('provider-allow'),
    defaultMinerConfig,
    minerConfigs: minerConfigs.values(),
    retrievalProtocols: base.retrievalProtocols,
    change:
      c === undefined
        ? undefined
        : {
            version: c.version,
            origin: c.origin,
            instance: c.instance,
            summary: c.summary,
            ...(c.reason !== null && { reason: c.reason }),
            at: c.createdAt.toISOString()
          },
    configLayer: layer
  })
}

function fill(
  m: {
    retrievalTimeoutMs: number | null
    maxConcurrentRetrievals: number | null
    maxBytesPerSecond: number | null
    firstByteTimeoutMs?: number | null
    maxPricePerByte?: string | null
    maxUnsealPrice?: string | null
    maxRetrievalCost?: string | null
  },
  under: MinerConfig
): MinerConfig {
  const cap = (stored: string | null | undefined, fallback: bigint | undefined) => {
    const v = stored == null ? fallback : stored === 'none' ? undefined : BigInt(stored)
    return v
  }
  const caps: Partial<MinerConfig> = {}
  const price = cap(m.maxPricePerByte, under.maxPricePerByte)
  const unseal = cap(m.maxUnsealPrice, under.maxUnsealPrice)
  const total = cap(m.maxRetrievalCost, under.maxRetrievalCost)
  if (price !== undefined) caps.maxPricePerByte = price
  if (unseal !== undefined) caps.maxUnsealPrice = unseal
  if (total !== undefined) caps.maxRetrievalCost = total
  return {
    ...caps,
    retrievalTimeoutMs: m.retrievalTimeoutMs ?? under.retrievalTimeoutMs,
    maxConcurrentRetrievals: m.maxConcurrentRetrievals ?? under.maxConcurrentRetrievals,
    maxBytesPerSecond: m.maxBytesPerSecond ?? under.maxBytesPerSecond,
    ...(m.firstByteTimeoutMs != null || under.firstByteTimeoutMs !== undefined
      ? { firstByteTimeoutMs: m.firstByteTimeoutMs ?? under.firstByteTimeoutMs }
      : {})
  }
}

function isParsableCid(value: string): boolean {
  try {
    CID.parse(value)
    return true
  } catch {
    return false
  }
}
