import { cidKey } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import type {
  CidEntry,
  ConfigLayerInfo,
  MinerConfig,
  MinerConfigEntry,
  PolicyChangeInfo,
  PolicySnapshot,
  ProviderEntry,
  ProviderVerdict,
  RetrievalProtocol
} from './types.ts'

export interface SnapshotInit {
  version: number
  deniedCids?: Iterable<CidEntry>
  deniedProviders?: Iterable<ProviderEntry>
  allowedProviders?: Iterable<ProviderEntry>
  defaultMinerConfig: MinerConfig
  minerConfigs?: Iterable<MinerConfigEntry>
  retrievalProtocols?: Iterable<RetrievalProtocol>
  change?: PolicyChangeInfo
  configLayer?: ConfigLayerInfo
}

/** Builds a frozen snapshot. Throws on an unparsable CID: callers validate operator input first. */
export function createSnapshot(init: SnapshotInit): PolicySnapshot {
  const deniedCids = new Map<string, CidEntry>()
  // Parsed here, not left to cidKey (which keeps a non-CID string as its own key): a deny entry
  // that is not a CID would never match, so it is refused loudly.
  for (const entry of init.deniedCids ?? []) deniedCids.set(cidKey(CID.parse(entry.cid)), entry)
  const byProvider = <T extends { provider: string }>(entries: Iterable<T> | undefined) =>
    new Map<string, T>([...(entries ?? [])].map((e) => [e.provider, e]))
  return Object.freeze({
    version: init.version,
    deniedCids,
    deniedProviders: byProvider(init.deniedProviders),
    allowedProviders: byProvider(init.allowedProviders),
    defaultMinerConfig: Object.freeze({ ...init.defaultMinerConfig }),
    minerConfigs: byProvider(init.minerConfigs),
    retrievalProtocols: new Set(init.retrievalProtocols ?? ['http', 'graphsync', 'bitswap']),
    ...(init.change !== undefined && { change: Object.freeze({ ...init.change }) }),
    ...(init.configLayer !== undefined && { configLayer: Object.freeze({ ...init.configLayer }) })
  })
}

export function isCidDenied(snapshot: PolicySnapshot, cid: CID): boolean {
  // Asked for every want, block and reply; with nothing denied, skip the base58 key (~4 µs).
  return snapshot.deniedCids.size > 0 && snapshot.deniedCids.has(cidKey(cid))
}

/** The deny entry a CID matches (by multihash), if any: what explain names as the rule. */
export function cidDenial(snapshot: PolicySnapshot, cid: CID): CidEntry | undefined {
  return snapshot.deniedCids.size > 0 ? snapshot.deniedCids.get(cidKey(cid)) : undefined
}

/**
 * Whether a provider may be contacted. `ids` are every name the provider is known by: its peer
 * ID and, where known, its miner address (f0…), so a list entry in either form matches.
 */
export function providerVerdict(snapshot: PolicySnapshot, ids: readonly string[]): ProviderVerdict {
  if (ids.some((id) => snapshot.deniedProviders.has(id))) return { allowed: false, reason: 'denied_provider' }
  if (snapshot.allowedProviders.size > 0 && !ids.some((id) => snapshot.allowedProviders.has(id))) {
    return { allowed: false, reason: 'not_allowlisted' }
  }
  return { allowed: true }
}

/** The limits that apply to a provider: its own miner config, else the default. */
export function minerConfigFor(snapshot: PolicySnapshot, ids: readonly string[]): MinerConfig {
  for (const id of ids) {
    const entry = snapshot.minerConfigs.get(id)
    if (entry !== undefined) {
      return {
        retrievalTimeoutMs: entry.retrievalTimeoutMs,
        maxConcurrentRetrievals: entry.maxConcurrentRetrievals,
        maxBytesPerSecond: entry.maxBytesPerSecond
      }
    }
  }
  return snapshot.defaultMinerConfig
}
