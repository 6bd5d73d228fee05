import { cidKey } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import type {
  CidEntry,
  ConfigLayerInfo,
  MinerConfig,
  MinerConfigEntry,
  MinerResolution,
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
 * ID and, where known, its miner address (f0…), so a list entry in either form matches; a listed
 * miner address also matches the peer ID it resolved to (see withResolutions).
 *
 * Until a miner address on the deny list has resolved, a provider known only by its peer ID might
 * be that miner: it is not contacted (`deny_unresolved`), the fail-safe side. An allow list entry
 * that has not resolved admits nobody but a candidate carrying that very address (fail closed).
 */
export function providerVerdict(snapshot: PolicySnapshot, ids: readonly string[]): ProviderVerdict {
  const names = namesOf(snapshot, ids)
  if (names.some((id) => snapshot.deniedProviders.has(id))) return { allowed: false, reason: 'denied_provider' }
  if (snapshot.allowedProviders.size > 0 && !names.some((id) => snapshot.allowedProviders.has(id))) {
    return { allowed: false, reason: 'not_allowlisted' }
  }
  if (!ids.some(isFilecoinAddress) && unresolvedDenials(snapshot).length > 0) {
    return { allowed: false, reason: 'deny_unresolved' }
  }
  return { allowed: true }
}

/** The limits that apply to a provider: its own miner config, else the default. */
export function minerConfigFor(snapshot: PolicySnapshot, ids: readonly string[]): MinerConfig {
  for (const id of namesOf(snapshot, ids)) {
    const entry = snapshot.minerConfigs.get(id)
    if (entry !== undefined) {
      return {
        retrievalTimeoutMs: entry.retrievalTimeoutMs,
        maxConcurrentRetrievals: entry.maxConcurrentRetrievals,
        maxBytesPerSecond: entry.maxBytesPerSecond,
        ...(entry.firstByteTimeoutMs !== undefined ? { firstByteTimeoutMs: entry.firstByteTimeoutMs } : {}),
        ...(entry.maxPricePerByte !== undefined ? { maxPricePerByte: entry.maxPricePerByte } : {}),
        ...(entry.maxUnsealPrice !== undefined ? { maxUnsealPrice: entry.maxUnsealPrice } : {}),
        ...(entry.maxRetrievalCost !== undefined ? { maxRetrievalCost: entry.maxRetrievalCost } : {})
      }
    }
  }
  return snapshot.defaultMinerConfig
}

/** A Filecoin address (f0… ID, or f1/f2/f3/f4 robust) rather than a libp2p peer ID. */
export function isFilecoinAddress(s: string): boolean {
  return /^[ft]0\d+$/.test(s) || /^[ft][1-4][a-z2-7]{20,}$/.test(s)
}

/** The names a provider goes by: the given ones, then the listed miner addresses its peer ID resolved from. */
function namesOf(snapshot: PolicySnapshot, ids: readonly string[]): readonly string[] {
  const byPeer = snapshot.addressesByPeer
  if (byPeer === undefined || byPeer.size === 0) return ids
  const extra = ids.flatMap((id) => byPeer.get(id) ?? [])
  return extra.length === 0 ? ids : [...ids, ...extra.filter((a) => !ids.includes(a))]
}

/** The miner addresses on the deny list that have no peer ID yet (none while resolution is not in use). */
export function unresolvedDenials(snapshot: PolicySnapshot): readonly string[] {
  if (snapshot.unresolvedDenials !== undefined) return snapshot.unresolvedDenials
  const resolutions = snapshot.resolutions
  if (resolutions === undefined) return []
  return [...snapshot.deniedProviders.keys()].filter(
    (p) => isFilecoinAddress(p) && resolutions.get(p)?.state !== 'resolved'
  )
}

/** The miner addresses a snapshot names, in its deny and allow lists and miner configs. */
export function minerAddressesOf(snapshot: PolicySnapshot): string[] {
  const all = [...snapshot.deniedProviders.keys(), ...snapshot.allowedProviders.keys(), ...snapshot.minerConfigs.keys()]
  return [...new Set(all.filter(isFilecoinAddress))]
}

/**
 * The same snapshot (same version) with miner addresses resolved: each listed address carries
 * its resolution (shown by the admin API), and the verdicts match the peer IDs they resolved to.
 * An address with no entry in `resolutions` is unresolved.
 */
export function withResolutions(
  snapshot: PolicySnapshot,
  resolutions: ReadonlyMap<string, MinerResolution>
): PolicySnapshot {
  const mine = new Map<string, MinerResolution>()
  const addressesByPeer = new Map<string, string[]>()
  for (const address of minerAddressesOf(snapshot)) {
    const r = resolutions.get(address) ?? { state: 'unresolved' }
    mine.set(address, r)
    if (r.state === 'resolved') addressesByPeer.set(r.peerId, [...(addressesByPeer.get(r.peerId) ?? []), address])
  }
  const decorate = <T extends { provider: string }>(entries: ReadonlyMap<string, T>) =>
    new Map(
      [...entries].map(([key, e]) => {
        const r = mine.get(key)
        const { resolution: _old, ...plain } = e as T & { resolution?: MinerResolution }
        return [key, (r === undefined ? plain : { ...plain, resolution: r }) as T]
      })
    )
  const unresolved = [...snapshot.deniedProviders.keys()].filter(
    (p) => isFilecoinAddress(p) && mine.get(p)?.state !== 'resolved'
  )
  return Object.freeze({
    ...snapshot,
    unresolvedDenials: Object.freeze(unresolved),
    deniedProviders: decorate(snapshot.deniedProviders),
    allowedProviders: decorate(snapshot.allowedProviders),
    minerConfigs: decorate(snapshot.minerConfigs),
    resolutions: mine,
    addressesByPeer
  })
}
