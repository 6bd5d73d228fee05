import { desc, sql } from 'drizzle-orm'
import type { Database } from '../connect.ts'
import { toStoreError } from '../errors.ts'
import { cidKey } from '../keys.ts'
import { minerConfigs, policyEntries, policyVersions } from '../schema/index.ts'
import type { AbortOptions, PolicyChange, PolicyVersion, StoredEntry, StoredMinerConfig } from '../types.ts'

export interface PolicyRepository {
  apply(
    change: PolicyChange,
    meta: { origin: PolicyVersion['origin']; reason?: string },
    options?: AbortOptions
  ): Promise<PolicyVersion>
  load(options?: AbortOptions): Promise<{ version: number; entries: StoredEntry[]; minerConfigs: StoredMinerConfig[] }>
  currentVersion(options?: AbortOptions): Promise<number>
  history(opts?: { limit?: number }): Promise<PolicyVersion[]>
}

export const POLICY_CHANNEL = 'autoretrieve_policy'

function summarize(change: PolicyChange): string {
  switch (change.op) {
    case 'add':
    case 'remove':
      return `${change.op} ${change.values.length} ${change.list}: ${change.values.slice(0, 5).join(', ')}${change.values.length > 5 ? ', …' : ''}`
    case 'set-miner-config':
      return `set miner config ${change.provider}`
    case 'delete-miner-config':
      return `delete miner config ${change.provider}`
    case 'reload':
      return 'config.yaml reloaded'
  }
}

/**
 * Policy rows. Every change is one transaction: a new policy_versions row, the entry rows stamped
 * with that version, and a NOTIFY (delivered at commit, so listeners never see a version whose rows
 * are not visible yet). `notify` lets the in-process feed (PGlite) hear about it too.
 */
export function createPolicyRepository(db: Database, notify: (version: number) => void): PolicyRepository {
  return {
    async apply(change, meta) {
      try {
        const row = await db.transaction(async (tx) => {
          const [v] = await tx
            .insert(policyVersions)
            .values({ origin: meta.origin, reason: meta.reason ?? null, summary: summarize(change) })
            .returning()
          if (change.op === 'add' || change.op === 'remove') {
            const state = change.op === 'add' ? 'present' : 'removed'
            const rows = [...new Set(change.values)].map((value) => ({
              list: change.list,
              key: change.list === 'cid-deny' ? cidKey(value) : value,
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
              state: change.op === 'set-miner-config' ? 'present' : 'removed',
              version: v.version
            }
            await tx
              .insert(minerConfigs)
              .values(values)
              .onConflictDoUpdate({ target: minerConfigs.provider, set: { ...values, changedAt: sql`now()` } })
          }
          await tx.execute(sql`select pg_notify(${POLICY_CHANNEL}, ${String(v.version)})`)
          return v
        })
        notify(row.version)
        return { ...row, origin: row.origin as PolicyVersion['origin'] }
      } catch (err) {
        throw toStoreError(err, 'applying a policy change')
      }
    },

    async load() {
      try {
        return await db.transaction(async (tx) => {
          const [top] = await tx
            .select({ v: sql<number>`coalesce(max(${policyVersions.version}), 0)::int` })
            .from(policyVersions)
          const entries = await tx.select().from(policyEntries)
          const miners = await tx.select().from(minerConfigs)
          return {
            version: Number(top.v),
            entries: entries.map((e) => ({
              ...e,
              list: e.list as StoredEntry['list'],
              state: e.state as StoredEntry['state']
            })),
            minerConfigs: miners.map((m) => ({
              provider: m.provider,
              retrievalTimeoutMs: m.retrievalTimeoutMs,
              maxConcurrentRetrievals: m.maxConcurrentRetrievals,
              maxBytesPerSecond: m.maxBytesPerSecond,
              state: m.state as StoredMinerConfig['state'],
              version: m.version
            }))
          }
        })
      } catch (err) {
        throw toStoreError(err, 'loading the policy')
      }
    },

    async currentVersion() {
      try {
        const [top] = await db
          .select({ v: sql<number>`coalesce(max(${policyVersions.version}), 0)::int` })
          .from(policyVersions)
        return Number(top.v)
      } catch (err) {
        throw toStoreError(err, 'reading the policy version')
      }
    },

    async history(opts = {}) {
      const rows = await db
        .select()
        .from(policyVersions)
        .orderBy(desc(policyVersions.version))
        .limit(Math.min(opts.limit ?? 50, 1000))
      return rows.map((r) => ({ ...r, origin: r.origin as PolicyVersion['origin'] }))
    }
  }
}
