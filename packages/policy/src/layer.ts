import { createHash } from 'node:crypto'
import type { ConfigPolicy } from './merge.ts'
import type { ConfigLayerInfo, MinerConfig, RetrievalProtocol } from './types.ts'

/**
 * A config.yaml layer in canonical form: lists sorted and without repeats, miner configs by
 * provider. Two files that say the same thing in another order give the same form, so the same
 * digest: a restart with an unchanged file makes no new version.
 */
export interface CanonicalLayer {
  cidBlacklist: string[]
  minerBlacklist: string[]
  minerWhitelist: string[]
  defaultMinerConfig: CanonicalMinerConfig
  minerConfigs: Record<string, CanonicalMinerConfig>
  retrievalProtocols: RetrievalProtocol[]
}

/**
 * A miner config as stored in the layer's JSON: the price caps as decimal attoFIL text (JSON has
 * no bigint), present only when set, so a layer without caps keeps the digest it had before them.
 */
export interface CanonicalMinerConfig {
  retrievalTimeoutMs: number
  maxConcurrentRetrievals: number
  maxBytesPerSecond: number
  maxPricePerByte?: string
  maxUnsealPrice?: string
  maxRetrievalCost?: string
}

const CAPS = ['maxPricePerByte', 'maxUnsealPrice', 'maxRetrievalCost'] as const

const sorted = <T extends string>(values: readonly T[]): T[] => [...new Set(values)].sort()
const miner = (m: MinerConfig | CanonicalMinerConfig): CanonicalMinerConfig => {
  const out: CanonicalMinerConfig = {
    retrievalTimeoutMs: m.retrievalTimeoutMs,
    maxConcurrentRetrievals: m.maxConcurrentRetrievals,
    maxBytesPerSecond: m.maxBytesPerSecond
  }
  for (const k of CAPS) if (m[k] !== undefined) out[k] = m[k].toString()
  return out
}
const minerFromCanonical = (m: CanonicalMinerConfig): MinerConfig => {
  const out: MinerConfig = {
    retrievalTimeoutMs: m.retrievalTimeoutMs,
    maxConcurrentRetrievals: m.maxConcurrentRetrievals,
    maxBytesPerSecond: m.maxBytesPerSecond
  }
  for (const k of CAPS) if (m[k] !== undefined) out[k] = BigInt(m[k])
  return out
}

export function canonicalLayer(p: ConfigPolicy | CanonicalLayer): CanonicalLayer {
  return {
    cidBlacklist: sorted(p.cidBlacklist),
    minerBlacklist: sorted(p.minerBlacklist),
    minerWhitelist: sorted(p.minerWhitelist),
    defaultMinerConfig: miner(p.defaultMinerConfig),
    minerConfigs: Object.fromEntries(
      Object.keys(p.minerConfigs)
        .sort()
        .map((k) => [k, miner(p.minerConfigs[k])])
    ),
    retrievalProtocols: sorted(p.retrievalProtocols)
  }
}

/** SHA-256 (hex) of the canonical layer's JSON. */
export function layerDigest(p: ConfigPolicy): string {
  return createHash('sha256')
    .update(JSON.stringify(canonicalLayer(p)))
    .digest('hex')
}

/** A stored layer as the merge's base, with where it came from. */
export function layerPolicy(layer: ConfigPolicy | CanonicalLayer, source: ConfigLayerInfo): ConfigPolicy {
  const c = canonicalLayer(layer)
  return {
    ...c,
    defaultMinerConfig: minerFromCanonical(c.defaultMinerConfig),
    minerConfigs: Object.fromEntries(Object.entries(c.minerConfigs).map(([k, m]) => [k, minerFromCanonical(m)])),
    source
  }
}

/** One config key on which two layers differ; values as config.yaml writes them. */
export interface LayerDifference {
  key:
    | 'cid-blacklist'
    | 'miner-blacklist'
    | 'miner-whitelist'
    | 'default-miner-config'
    | 'miner-configs'
    | 'retrieval-protocols'
  /** In this instance's file, not in the stored layer (for miner configs: providers set differently or only here). */
  onlyInFile: string[]
  /** In the stored layer, not in this instance's file. */
  onlyStored: string[]
}

/** Where `file` (this instance's config.yaml) and `stored` (the layer in force) disagree. */
export function diffLayers(
  file: ConfigPolicy | CanonicalLayer,
  stored: ConfigPolicy | CanonicalLayer
): LayerDifference[] {
  const a = canonicalLayer(file)
  const b = canonicalLayer(stored)
  const out: LayerDifference[] = []
  const lists = (key: LayerDifference['key'], x: readonly string[], y: readonly string[]) => {
    const onlyInFile = x.filter((v) => !y.includes(v))
    const onlyStored = y.filter((v) => !x.includes(v))
    if (onlyInFile.length > 0 || onlyStored.length > 0) out.push({ key, onlyInFile, onlyStored })
  }
  lists('cid-blacklist', a.cidBlacklist, b.cidBlacklist)
  lists('miner-blacklist', a.minerBlacklist, b.minerBlacklist)
  lists('miner-whitelist', a.minerWhitelist, b.minerWhitelist)
  if (JSON.stringify(a.defaultMinerConfig) !== JSON.stringify(b.defaultMinerConfig))
    out.push({ key: 'default-miner-config', onlyInFile: ['default'], onlyStored: ['default'] })
  const sig = (m: Record<string, CanonicalMinerConfig>) =>
    Object.entries(m).map(([k, v]) => `${k}=${JSON.stringify(v)}`)
  const [fa, fb] = [sig(a.minerConfigs), sig(b.minerConfigs)]
  const name = (s: string) => s.slice(0, s.indexOf('='))
  const mOnlyFile = fa.filter((s) => !fb.includes(s)).map(name)
  const mOnlyStored = fb.filter((s) => !fa.includes(s)).map(name)
  if (mOnlyFile.length > 0 || mOnlyStored.length > 0)
    out.push({ key: 'miner-configs', onlyInFile: mOnlyFile, onlyStored: mOnlyStored })
  lists('retrieval-protocols', a.retrievalProtocols, b.retrievalProtocols)
  return out
}
