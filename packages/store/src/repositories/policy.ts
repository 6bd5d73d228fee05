import { type AbortOptions, cidKey } from '@autoretrieve/interface'
import { desc, eq, lte, sql } from 'drizzle-orm'
import type { DbOrTx } from '../connect.ts'
import { throwIfAborted, toStoreError } from '../errors.ts'
import { minerConfigs, policyConfigLayers, policyEntries, policyVersions } from '../schema/index.ts'
import type {
  ConfigLayer,
  PolicyChange,
  PolicyVersion,
  StartLayerOutcome,
  StoredConfigLayer,
  StoredEntry,
  StoredMinerConfig
} from '../types.ts'

/** Who makes a change: how (api, a reload, a start), why, and which instance. */
export interface ChangeMeta {
  origin: PolicyVersion['origin']
  reason?: string
  /** The instance-name of the node making it. */
  instance?: string
}

export interface PolicyRepository {
  /** One transaction: a new policy_versions row, the entries stamped with it, then NOTIFY. */
  apply(change: PolicyChange, meta: ChangeMeta, options?: AbortOptions): Promise<PolicyVersion>
  /**
   * A start brings its config.yaml layer (under the same lock as apply, so two starts at once
   * decide in turn). No layer stored yet, or the stored one came from this same instance and file:
   * the file becomes a new version (`published`), unless it is already the stored one
   * (`unchanged`). A layer from another instance or file is kept (`adopted`): a start never
   * overrides another instance's file; a reload does.
   */
  startLayer(
    change: Extract<PolicyChange, { op: 'reload' }>,
    meta: ChangeMeta & { instance: string },
    options?: AbortOptions
  ): Promise<StartLayerOutcome>
  /** A consistent read (one repeatable-read transaction): the version and exactly its rows. */
  load(options?: AbortOptions): Promise<LoadedPolicy>
  /** 0 when no change was ever made. */
  currentVersion(options?: AbortOptions): Promise<number>
  /** Newest first. */
  history(opts?: { limit?: number }, options?: AbortOptions): Promise<PolicyVersion[]>
}

export interface LoadedPolicy {
  version: number
  /** The version row itself (null at version 0). */
  change: PolicyVersion | null
  /** The config.yaml layer in force at this version (null until a start or reload stored one). */
  layer: StoredConfigLayer | null
  entries: StoredEntry[]
  minerConfigs: StoredMinerConfig[]
}

/** The LISTEN/NOTIFY channel; the payload is the new version number. */
export const POLICY_CHANNEL = 'autoretrieve_policy'

/**
 * Every apply takes this transaction-scoped advisory lock before it draws a version number, so
 * versions commit in the order they are numbered, across instances. Without it, version 6 could
 * commit before 5: a reader at 6 would lack 5's rows and then ignore 5's notification as old.
 */
const APPLY_LOCK_KEY = 0x61727031 // 'arp1'

const HISTORY_DEFAULT_LIMIT = 50
const HISTORY_MAX_LIMIT = 1000

function summarize(change: PolicyChange): string {
  switch (change.op) {
    case 'add':
    case 'remove': {
      const shown = change.values.slice(0, 5).join(', ')
      return `${change.op} ${change.values.length} ${change.list}: ${shown}${change.values.length > 5 ? ', …' : ''}`
    }
    case 'set-miner-config':
      return `set miner config ${change.provider}`
    case 'delete-miner-config':
      return `delete miner config ${change.provider}`
    case 'reload':
      return `config.yaml ${change.file} (${change.layer.cidBlacklist.length} denied CIDs, ${change.layer.minerBlacklist.length} denied providers, ${change.layer.minerWhitelist.length} allowed providers, ${Object.keys(change.layer.minerConfigs).length} miner configs)`
  }
}

function toVersion(row: typeof policyVersions.$inferSelect): PolicyVersion {
  return { ...row, origin: row.origin as PolicyVersion['origin'] }
}

function toLayer(row: typeof policyConfigLayers.$inferSelect): StoredConfigLayer {
  return { ...row, layer: row.layer as ConfigLayer }
}

/** The layer in force at `version`: the newest stored at or below it. */
async function layerAt(db: DbOrTx, version: number): Promise<StoredConfigLayer | null> {
  const [row] = await db
    .select()
    .from(policyConfigLayers)
    .where(lte(policyConfigLayers.version, version))
    .orderBy(desc(policyConfigLayers.version))
    .limit(1)
  return row === undefined ? null : toLayer(row)
}

/** Applies one change in one transaction and returns the version it made (see PolicyRepository.apply). */
export async function applyPolicyChange(db: DbOrTx, change: PolicyChange, meta: ChangeMeta): Promise<PolicyVersion> {
  const row = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${APPLY_LOCK_KEY})`)
    return applyLocked(tx, change, meta)
  })
  return toVersion(row)
}

/**
 * A start's config.yaml layer, decided under the apply lock (see PolicyRepository.startLayer).
 */
export async function startConfigLayer(
  db: DbOrTx,
  change: Extract<PolicyChange, { op: 'reload' }>,
  meta: ChangeMeta & { instance: string }
): Promise<StartLayerOutcome> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${APPLY_LOCK_KEY})`)
    const stored = await layerAt(tx, await currentPolicyVersion(tx))
    if (stored !== null && stored.digest === change.digest) return { action: 'unchanged' as const, layer: stored }
    if (stored !== null && (stored.instance !== meta.instance || stored.file !== change.file))
      return { action: 'adopted' as const, layer: stored }
    const v = await applyLocked(tx, change, meta)
    const [made] = await tx.select().from(policyConfigLayers).where(eq(policyConfigLayers.version, v.version))
    return { action: 'published' as const, layer: toLayer(made) }
  })
}

/** Inside a transaction that holds the apply lock: a new version and the rows it stamps. */
async function applyLocked(
  tx: DbOrTx,
  change: PolicyChange,
  meta: ChangeMeta
): Promise<typeof policyVersions.$inferSelect> {
  const [v] = await tx
    .insert(policyVersions)
    .values({
      origin: meta.origin,
      reason: meta.reason ?? null,
      summary: summarize(change),
      instance: meta.instance ?? ''
    })
    .returning()
  if (change.op === 'add' || change.op === 'remove') {
    const state = change.op === 'add' ? 'present' : 'removed'
    // One row per key: a CIDv0 and its CIDv1 in one request would otherwise collide in one upsert.
    const byKey = new Map<string, string>()
    for (const value of change.values) byKey.set(change.list === 'cid-deny' ? cidKey(value) : value, value)
    const rows = [...byKey].map(([key, value]) => ({
      list: change.list,
      key,
      value,
      state,
      reason: change.reason ?? null,
      version: v.version
    }))
    if (rows.length > 0) {
      await tx
        .insert(policyEntries)
        .values(rows)
        .onConflictDoUpdate({
          target: [policyEntries.list, policyEntries.key],
          set: {
            value: sql`excluded.value`,
            state: sql`excluded.state`,
            reason: sql`excluded.reason`,
            version: sql`excluded.version`,
            changedAt: sql`now()`
          }
        })
    }
  } else if (change.op === 'set-miner-config' || change.op === 'delete-miner-config') {
    const c = change.op === 'set-miner-config' ? change.config : {}
    const values = {
      provider: change.provider,
      retrievalTimeoutMs: c.retrievalTimeoutMs ?? null,
      maxConcurrentRetrievals: c.maxConcurrentRetrievals ?? null,
      maxBytesPerSecond: c.maxBytesPerSecond ?? null,
      maxPricePerByte: c.maxPricePerByte ?? null,
      maxUnsealPrice: c.maxUnsealPrice ?? null,
      maxRetrievalCost: c.maxRetrievalCost ?? null,
      state: change.op === 'set-miner-config' ? 'present' : 'removed',
      version: v.version
    }
    await tx
      .insert(minerConfigs)
      .values(values)
      .onConflictDoUpdate({ target: minerConfigs.provider, set: { ...values, changedAt: sql`now()` } })
  } else if (change.op === 'reload') {
    await tx.insert(policyConfigLayers).values({
      version: v.version,
      instance: meta.instance ?? '',
      file: change.file,
      digest: change.digest,
      layer: change.layer
    })
  }
  // Delivered at commit: a listener never hears of a version whose rows it cannot see yet.
  await tx.execute(sql`select pg_notify(${POLICY_CHANNEL}, ${String(v.version)})`)
  return v
}

export async function currentPolicyVersion(db: DbOrTx): Promise<number> {
  const [top] = await db
    .select({ v: sql<number>`coalesce(max(${policyVersions.version}), 0)::int` })
    .from(policyVersions)
  return Number(top.v)
}

/** The version and its rows, read in one repeatable-read transaction so they agree. */
export async function loadPolicy(db: DbOrTx): Promise<LoadedPolicy> {
  return db.transaction(
    async (tx) => {
      const version = await currentPolicyVersion(tx)
      const [change] = await tx.select().from(policyVersions).where(eq(policyVersions.version, version))
      const layer = await layerAt(tx, version)
      // Who made each entry's last change: the instance on its version's row.
      const entries = await tx
        .select({ e: policyEntries, instance: policyVersions.instance })
        .from(policyEntries)
        .leftJoin(policyVersions, eq(policyVersions.version, policyEntries.version))
        .then((rows) => rows.map((r) => ({ ...r.e, instance: r.instance ?? '' })))
      const miners = await tx
        .select({ m: minerConfigs, instance: policyVersions.instance })
        .from(minerConfigs)
        .leftJoin(policyVersions, eq(policyVersions.version, minerConfigs.version))
        .then((rows) => rows.map((r) => ({ ...r.m, instance: r.instance ?? '' })))
      return {
        version,
        change: change === undefined ? null : toVersion(change),
        layer,
        entries: entries.map((e) => ({
          list: e.list as StoredEntry['list'],
          value: e.value,
          key: e.key,
          state: e.state as StoredEntry['state'],
          reason: e.reason,
          version: e.version,
          changedAt: e.changedAt,
          instance: e.instance
        })),
        minerConfigs: miners.map((m) => ({
          provider: m.provider,
          retrievalTimeoutMs: m.retrievalTimeoutMs,
          maxConcurrentRetrievals: m.maxConcurrentRetrievals,
          maxBytesPerSecond: m.maxBytesPerSecond,
          maxPricePerByte: m.maxPricePerByte,
          maxUnsealPrice: m.maxUnsealPrice,
          maxRetrievalCost: m.maxRetrievalCost,
          state: m.state as StoredMinerConfig['state'],
          version: m.version,
          changedAt: m.changedAt,
          instance: m.instance
        }))
      }
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' }
  )
}

export async function policyHistory(db: DbOrTx, opts: { limit?: number } = {}): Promise<PolicyVersion[]> {
  const limit = Math.max(1, Math.min(opts.limit ?? HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT))
  const rows = await db.select().from(policyVersions).orderBy(desc(policyVersions.version)).limit(limit)
  return rows.map(toVersion)
}

/**
 * The repository over one handle. `notify` hears every version this process made, after commit:
 * the in-process change feed (all PGlite has; PostgreSQL's NOTIFY reaches the other instances).
 */
export function createPolicyRepository(db: DbOrTx, notify: (version: number) => void): PolicyRepository {
  return {
    async apply(change, meta, options = {}) {
      throwIfAborted(options.signal)
      let v: PolicyVersion
      try {
        v = await applyPolicyChange(db, change, meta)
      } catch (err) {
        throw toStoreError(err, 'applying a policy change')
      }
      notify(v.version)
      return v
    },
    async startLayer(change, meta, options = {}) {
      throwIfAborted(options.signal)
      let out: StartLayerOutcome
      try {
        out = await startConfigLayer(db, change, meta)
      } catch (err) {
        throw toStoreError(err, 'storing the config.yaml layer')
      }
      if (out.action === 'published') notify(out.layer.version)
      return out
    },
    async load(options = {}) {
      throwIfAborted(options.signal)
      try {
        return await loadPolicy(db)
      } catch (err) {
        throw toStoreError(err, 'loading the policy')
      }
    },
    async currentVersion(options = {}) {
      throwIfAborted(options.signal)
      try {
        return await currentPolicyVersion(db)
      } catch (err) {
        throw toStoreError(err, 'reading the policy version')
      }
    },
    async history(opts = {}, options = {}) {
      throwIfAborted(options.signal)
      try {
        return await policyHistory(db, opts)
      } catch (err) {
        throw toStoreError(err, 'reading the policy history')
      }
    }
  }
}
