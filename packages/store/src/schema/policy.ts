import { bigint, index, integer, jsonb, pgTable, primaryKey, serial, text, timestamp } from 'drizzle-orm/pg-core'

/** One row per policy change: the version every snapshot, record and refusal is stamped with. */
export const policyVersions = pgTable('policy_versions', {
  version: serial('version').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  origin: text('origin').notNull(),
  reason: text('reason'),
  summary: text('summary').notNull(),
  /** The instance-name of the node that made the change ('' for versions made before 0003). */
  instance: text('instance').notNull().default('')
})

/**
 * The config.yaml layer a start or a reload brought in, stored with the version it made, so every
 * instance merges the same base under the same version. The layer in force at version V is the
 * newest row with version <= V. `layer` is the ConfigPolicy as JSON (lists, miner configs,
 * retrieval protocols); `digest` is its canonical SHA-256, to tell a file that differs at a glance.
 */
export const policyConfigLayers = pgTable('policy_config_layers', {
  version: integer('version').primaryKey(),
  instance: text('instance').notNull(),
  file: text('file').notNull(),
  digest: text('digest').notNull(),
  layer: jsonb('layer').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
})

/**
 * API-made list entries, on top of config.yaml's lists. `state = 'removed'` is a tombstone: it
 * hides the value even when config.yaml lists it. `key` is what matching uses (a CID's multihash).
 */
export const policyEntries = pgTable(
  'policy_entries',
  {
    list: text('list').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    state: text('state').notNull(),
    reason: text('reason'),
    version: integer('version').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow()
  },
  (t) => [primaryKey({ columns: [t.list, t.key] })]
)

/** API-made per-provider limits (provider `default` overrides default-miner-config). Null fields fall back. */
export const minerConfigs = pgTable(
  'miner_configs',
  {
    provider: text('provider').primaryKey(),
    retrievalTimeoutMs: bigint('retrieval_timeout_ms', { mode: 'number' }),
    maxConcurrentRetrievals: integer('max_concurrent_retrievals'),
    maxBytesPerSecond: bigint('max_bytes_per_second', { mode: 'number' }),
    /** Price caps (issue 16), attoFIL as decimal text; null falls back like the other fields. */
    maxPricePerByte: text('max_price_per_byte'),
    maxUnsealPrice: text('max_unseal_price'),
    maxRetrievalCost: text('max_retrieval_cost'),
    state: text('state').notNull(),
    version: integer('version').notNull(),
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow()
  },
  (t) => [index('miner_configs_version_idx').on(t.version)]
)
