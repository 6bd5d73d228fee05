import type { AutoretrieveConfig } from '@autoretrieve/config'
import {
  type ConfigPolicy,
  createPolicyHolder,
  mergePolicy,
  type PolicyHolder,
  type PolicySnapshot
} from '@autoretrieve/policy'
import type { PolicyChange, PolicyVersion, Store } from '@autoretrieve/store'
import type { Logger } from './logger.ts'

/**
 * Keeps the node's policy snapshot in step with config.yaml and the database: the snapshot is
 * config.yaml merged with the stored API overrides (see mergePolicy for the rule). A change made
 * here is applied in the store (one new version), swapped in locally at once, and reaches every
 * other instance on the same database through the store's change feed.
 */
export interface PolicyService {
  readonly holder: PolicyHolder
  current(): PolicySnapshot
  /**
   * Stores the change as a new version and swaps it in locally before resolving with that version
   * (the one this change made, even when another change lands at once).
   */
  apply(change: PolicyChange, meta: { origin: PolicyVersion['origin']; reason?: string }): Promise<PolicyVersion>
  /** A new config.yaml was read: new base layer, and a new version in the store (resolved with). */
  reload(config: AutoretrieveConfig): Promise<PolicyVersion>
  start(): Promise<void>
  stop(): Promise<void>
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

export async function createPolicyService(
  components: { store: Pick<Store, 'policy' | 'changes'>; logger?: Logger },
  config: AutoretrieveConfig
): Promise<PolicyService> {
  const { store, logger } = components
  let base = configPolicy(config)
  const holder = createPolicyHolder(mergePolicy(base, await store.policy.load()))
  let unsubscribe: (() => void) | undefined
  // Reloads are serialised so two quick notifications cannot install an older read after a newer one.
  let refreshing: Promise<PolicySnapshot> = Promise.resolve(holder.current())

  const refresh = (): Promise<PolicySnapshot> => {
    refreshing = refreshing
      .catch(() => holder.current())
      .then(async () => {
        const next = mergePolicy(base, await store.policy.load())
        if (holder.swap(next)) logger?.debug({ version: next.version }, 'policy snapshot swapped')
        return holder.current()
      })
    return refreshing
  }

  return {
    holder,
    current: () => holder.current(),
    async apply(change, meta) {
      const created = await store.policy.apply(change, meta)
      await refresh()
      return created
    },
    async reload(next) {
      base = configPolicy(next)
      const created = await store.policy.apply({ op: 'reload' }, { origin: 'config', reason: 'config.yaml reloaded' })
      await refresh()
      return created
    },
    async start() {
      unsubscribe = store.changes.subscribe((version) => {
        if (version > holder.current().version) {
          refresh().catch((err) => logger?.warn({ err }, 'could not load the new policy version'))
        }
      })
      // A change committed between the first load and the subscription would otherwise wait for the next one.
      await refresh()
    },
    async stop() {
      unsubscribe?.()
    }
  }
}
