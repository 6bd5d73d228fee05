import type { AutoretrieveConfig } from '@autoretrieve/config'
import {
  type ConfigPolicy,
  createPolicyHolder,
  type MinerResolution,
  mergePolicy,
  minerAddressesOf,
  type PolicyHolder,
  type PolicySnapshot,
  withResolutions
} from '@autoretrieve/policy'
import type { MinerAddressBook, MinerLookup } from '@autoretrieve/routing'
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
  apply(change: PolicyChange, meta: { origin: PolicyVersion['origin']; reason?: string }): Promise<PolicySnapshot>
  /** A new config.yaml was read: new base layer, and a new version in the store. */
  reload(config: AutoretrieveConfig): Promise<PolicySnapshot>
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

export async function createPolicyService(
  components: { store: Pick<Store, 'policy' | 'changes'>; logger?: Logger; minerAddresses?: MinerAddressBook },
  config: AutoretrieveConfig
): Promise<PolicyService> {
  const { store, logger, minerAddresses: book } = components
  let base = configPolicy(config)
  // Every snapshot carries the miner addresses' resolutions (when a book is given): a new version
  // starts from what the book knows, and the book's answers re-issue the current version.
  const resolved = (s: PolicySnapshot) => (book === undefined ? s : withResolutions(s, resolutionsOf(book)))
  const holder = createPolicyHolder(resolved(mergePolicy(base, await store.policy.load())))
  const watchAddresses = (s: PolicySnapshot, waitMs?: number) =>
    book?.watch(minerAddressesOf(s), { waitMs }).catch((err) => logger?.warn({ err }, 'miner address lookup failed'))
  let unsubscribeBook: (() => void) | undefined
  let unsubscribe: (() => void) | undefined
  // Reloads are serialised so two quick notifications cannot install an older read after a newer one.
  let refreshing: Promise<PolicySnapshot> = Promise.resolve(holder.current())

  const refresh = (): Promise<PolicySnapshot> => {
    refreshing = refreshing
      .catch(() => holder.current())
      .then(async () => {
        const next = resolved(mergePolicy(base, await store.policy.load()))
        if (holder.swap(next)) logger?.debug({ version: next.version }, 'policy snapshot swapped')
        void watchAddresses(next)
        return holder.current()
      })
    return refreshing
  }

  return {
    holder,
    current: () => holder.current(),
    async apply(change, meta) {
      await store.policy.apply(change, meta)
      await watchAddresses(await refresh(), FIRST_RESOLUTION_WAIT_MS)
      return holder.current()
    },
    async reload(next) {
      base = configPolicy(next)
      await store.policy.apply({ op: 'reload' }, { origin: 'config', reason: 'config.yaml reloaded' })
      await watchAddresses(await refresh(), FIRST_RESOLUTION_WAIT_MS)
      return holder.current()
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
      // A change committed between the first load and the subscription would otherwise wait for the next one.
      await refresh()
    },
    async stop() {
      unsubscribe?.()
      unsubscribeBook?.()
      book?.stop()
    }
  }
}
