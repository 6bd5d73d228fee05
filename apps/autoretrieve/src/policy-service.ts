import { join } from 'node:path'
import { type AutoretrieveConfig, CONFIG_FILE } from '@autoretrieve/config'
import {
  type CanonicalLayer,
  type ConfigPolicy,
  canonicalLayer,
  createPolicyHolder,
  diffLayers,
  type LayerDifference,
  layerDigest,
  layerPolicy,
  type MinerResolution,
  mergePolicy,
  minerAddressesOf,
  type PolicyHolder,
  type PolicySnapshot,
  withResolutions
} from '@autoretrieve/policy'
import type { MinerAddressBook, MinerLookup } from '@autoretrieve/routing'
import type { LoadedPolicy, PolicyChange, PolicyVersion, Store } from '@autoretrieve/store'
import type { Logger } from './logger.ts'

/**
 * Keeps the node's policy snapshot in step with the database: the snapshot is the config.yaml
 * layer stored with the current version, merged with the stored API overrides (see mergePolicy).
 * Every instance on the database builds the same snapshot at the same version, whatever its own
 * file says: the file counts once it is stored, by a start (see `start`) or a `reload`.
 * A change made here is applied in the store (one new version), swapped in locally at once, and
 * reaches every other instance on the same database through the store's change feed.
 */
export interface PolicyService {
  readonly holder: PolicyHolder
  current(): PolicySnapshot
  /**
   * Stores the change as a new version and swaps it in locally before resolving with that version
   * (the one this change made, even when another change lands at once).
   */
  apply(change: PolicyChange, meta: { origin: PolicyVersion['origin']; reason?: string }): Promise<PolicyVersion>
  /** A new config.yaml was read: it becomes the stored layer, in a new version every instance applies (resolved with). */
  reload(config: AutoretrieveConfig): Promise<PolicyVersion>
  /** How this instance's config.yaml differs from the stored layer in force; null when it does not. */
  drift(): ConfigDrift | null
  start(): Promise<void>
  stop(): Promise<void>
}

/** This instance's file against the stored layer in force (GET /api/v1/policy `configDrift`). */
export interface ConfigDrift {
  /** This instance's config.yaml. */
  file: string
  digest: string
  /** The layer in force: the version that stored it, its instance and file. */
  stored: { version: number; instance: string; file: string; digest: string }
  differences: LayerDifference[]
}

export function configPolicy(config: AutoretrieveConfig): ConfigPolicy {
  return {
    cidBlacklist: config.cidBlacklist,
    minerBlacklist: config.minerBlacklist,
    minerWhitelist: config.minerWhitelist,
    defaultMinerConfig: config.defaultMinerConfig,
    minerConfigs: config.minerConfigs,
    retrievalProtocols: config.retrievalProtocols
  }
}

/**
 * How long a start or a policy change waits for the first Lotus answer about a miner address new
 * to the policy (lookups go on in the background after it): so the change's answer shows it
 * resolved, and a whitelist that names one admits it from the start.
 */
const FIRST_RESOLUTION_WAIT_MS = 5_000

/** The address book's view as the policy reads it. */
function resolutionsOf(book: MinerAddressBook): Map<string, MinerResolution> {
  const toResolution = (l: MinerLookup): MinerResolution =>
    l.peerId === undefined
      ? { state: 'unresolved', ...(l.error ? { error: l.error } : {}) }
      : {
          state: 'resolved',
          peerId: l.peerId,
          resolvedAt: new Date(l.resolvedAt ?? 0).toISOString(),
          ...(l.error ? { stale: true, error: l.error } : {})
        }
  return new Map([...book.current()].map(([address, lookup]) => [address, toResolution(lookup)]))
}

/** The merge's base: the stored layer when there is one, else (before the first start stored it) the file. */
function baseOf(loaded: LoadedPolicy, file: ConfigPolicy): ConfigPolicy {
  const l = loaded.layer
  if (l === null) return file
  return layerPolicy(l.layer as CanonicalLayer, {
    version: l.version,
    instance: l.instance,
    file: l.file,
    digest: l.digest,
    at: l.createdAt.toISOString()
  })
}

export async function createPolicyService(
  components: { store: Pick<Store, 'policy' | 'changes'>; logger?: Logger; minerAddresses?: MinerAddressBook },
  config: AutoretrieveConfig
): Promise<PolicyService> {
  const { store, logger, minerAddresses: book } = components
  const instance = config.instanceName
  let filePath = join(config.dataDir, CONFIG_FILE)
  let file = configPolicy(config)
  let fileDigest = layerDigest(file)
  let drift: ConfigDrift | null = null
  // Every snapshot carries the miner addresses' resolutions (when a book is given): a new version
  // starts from what the book knows, and the book's answers re-issue the current version.
  const resolved = (s: PolicySnapshot) => (book === undefined ? s : withResolutions(s, resolutionsOf(book)))
  const watchAddresses = (s: PolicySnapshot, waitMs?: number) =>
    book?.watch(minerAddressesOf(s), { waitMs }).catch((err) => logger?.warn({ err }, 'miner address lookup failed'))
  let unsubscribeBook: (() => void) | undefined

  const build = (loaded: LoadedPolicy): PolicySnapshot => {
    const base = baseOf(loaded, file)
    const l = loaded.layer
    drift =
      l === null || l.digest === fileDigest
        ? null
        : {
            file: filePath,
            digest: fileDigest,
            stored: { version: l.version, instance: l.instance, file: l.file, digest: l.digest },
            differences: diffLayers(file, base)
          }
    return resolved(mergePolicy(base, loaded))
  }

  const holder = createPolicyHolder(build(await store.policy.load()))
  let unsubscribe: (() => void) | undefined
  // Reloads are serialised so two quick notifications cannot install an older read after a newer one.
  let refreshing: Promise<PolicySnapshot> = Promise.resolve(holder.current())

  const refresh = (): Promise<PolicySnapshot> => {
    refreshing = refreshing
      .catch(() => holder.current())
      .then(async () => {
        const next = build(await store.policy.load())
        if (holder.swap(next)) logger?.debug({ version: next.version }, 'policy snapshot swapped')
        void watchAddresses(next)
        return holder.current()
      })
    return refreshing
  }

  const layerChange = (): Extract<PolicyChange, { op: 'reload' }> => ({
    op: 'reload',
    layer: canonicalLayer(file),
    file: filePath,
    digest: fileDigest
  })

  return {
    holder,
    current: () => holder.current(),
    drift: () => drift,
    async apply(change, meta) {
      const created = await store.policy.apply(change, { ...meta, instance })
      await watchAddresses(await refresh(), FIRST_RESOLUTION_WAIT_MS)
      return created
    },
    async reload(next) {
      file = configPolicy(next)
      fileDigest = layerDigest(file)
      filePath = join(next.dataDir, CONFIG_FILE)
      const created = await store.policy.apply(layerChange(), {
        origin: 'config',
        reason: 'config.yaml reloaded',
        instance
      })
      await watchAddresses(await refresh(), FIRST_RESOLUTION_WAIT_MS)
      return created
    },
    async start() {
      if (book !== undefined) {
        // An answer from Lotus re-issues the current version with it.
        unsubscribeBook = book.subscribe(() => {
          const now = holder.current()
          holder.swap(resolved(now))
        })
        await watchAddresses(holder.current(), FIRST_RESOLUTION_WAIT_MS)
      }
      unsubscribe = store.changes.subscribe((version) => {
        if (version > holder.current().version) {
          refresh().catch((err) => logger?.warn({ err }, 'could not load the new policy version'))
        }
      })
      // The start rule (README "One policy on every instance"): the first file stored, or this
      // instance's own file changed, becomes a new version; another instance's layer is kept,
      // and this file's differences are reported, never enforced on this instance alone.
      const out = await store.policy.startLayer(layerChange(), {
        origin: 'startup',
        reason: 'config.yaml at start',
        instance
      })
      // Also picks up a change committed between the first load and the subscription.
      const now = await refresh()
      const where = { version: out.layer.version, instance: out.layer.instance, file: out.layer.file }
      if (out.action === 'published')
        logger?.info({ ...where, policyVersion: now.version }, 'config.yaml stored as the shared policy layer')
      else if (out.action === 'unchanged') logger?.debug({ ...where }, 'config.yaml matches the stored policy layer')
      else
        logger?.warn(
          { stored: where, file: filePath, differences: drift?.differences ?? [] },
          `config.yaml differs from the policy layer stored by instance "${out.layer.instance}" (${out.layer.file}) at version ${out.layer.version}; this instance enforces the stored layer. POST /api/v1/reload on this instance to make its file the shared layer`
        )
    },
    async stop() {
      unsubscribe?.()
      unsubscribeBook?.()
      book?.stop()
    }
  }
}
