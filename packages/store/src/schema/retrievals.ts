import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid
} from 'drizzle-orm/pg-core'

/**
 * An amount of attoFIL: numeric(78,0), an exact integer up to 10^78 (a uint256 fits), so the
 * history's costs sum exactly in SQL (`sum(cost)`) where a float would round and text would not
 * sum at all. Both drivers (postgres.js, PGlite) hand numeric back as a decimal string, which is
 * the record's form too: no JavaScript number ever holds an amount.
 */
const attoFil = (name: string) => numeric(name, { precision: 78, scale: 0 })

/*
 * Retrieval records are telemetry written in batches off the hot path, possibly out of order and
 * after an outage; so no foreign keys: an attempt may land before its retrieval row.
 * `*_key` columns hold the multihash (base58btc) so CIDv0 and CIDv1 of one content match.
 * Rows without an id of their own (candidates, refusals) have a natural unique key instead, so a
 * batch written twice (a commit whose answer was lost in an outage) leaves no duplicates.
 */
export const retrievals = pgTable(
  'retrievals',
  {
    id: uuid('id').primaryKey(),
    rootCid: text('root_cid').notNull().default(''),
    rootKey: text('root_key').notNull().default(''),
    requestedCid: text('requested_cid').notNull().default(''),
    requestedKey: text('requested_key').notNull().default(''),
    requestedBy: jsonb('requested_by').$type<string[]>().notNull().default([]),
    policyVersion: integer('policy_version').notNull().default(0),
    status: text('status').notNull().default('running'),
    reason: text('reason'),
    /** What failed, in words (`indexer_failed`: which indexer error); null on success. */
    errorMessage: text('error_message'),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    blocks: integer('blocks').notNull().default(0),
    /** What the retrieval paid in attoFIL (see `attoFil` below); null: nothing paid. */
    cost: attoFil('cost'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    /** The instance-name of the node that made the retrieval ('' for rows written before 0003). */
    instance: text('instance').notNull().default('')
  },
  (t) => [
    index('retrievals_started_idx').on(t.startedAt.desc(), t.id.desc()),
    index('retrievals_root_key_idx').on(t.rootKey),
    index('retrievals_requested_key_idx').on(t.requestedKey),
    index('retrievals_status_idx').on(t.status)
  ]
)

export const retrievalCandidates = pgTable(
  'retrieval_candidates',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    retrievalId: uuid('retrieval_id').notNull(),
    source: text('source').notNull(),
    provider: text('provider').notNull(),
    protocols: jsonb('protocols').$type<string[]>().notNull(),
    addrs: jsonb('addrs').$type<string[]>().notNull(),
    verdict: text('verdict').notNull(),
    reason: text('reason'),
    policyVersion: integer('policy_version').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull()
  },
  (t) => [
    uniqueIndex('retrieval_candidates_natural_key').on(t.retrievalId, t.source, t.provider, t.at),
    index('retrieval_candidates_provider_idx').on(t.provider)
  ]
)

export const retrievalAttempts = pgTable(
  'retrieval_attempts',
  {
    id: uuid('id').primaryKey(),
    retrievalId: uuid('retrieval_id').notNull(),
    provider: text('provider').notNull(),
    protocol: text('protocol').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    connectedAt: timestamp('connected_at', { withTimezone: true }),
    firstByteAt: timestamp('first_byte_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    blocks: integer('blocks').notNull(),
    outcome: text('outcome').notNull(),
    errorClass: text('error_class'),
    errorMessage: text('error_message'),
    /** What the attempt paid the provider in attoFIL; null: a free attempt. */
    cost: attoFil('cost'),
    /** The payment channel (f2… address) its vouchers were drawn on; null: it paid nothing. */
    paymentChannel: text('payment_channel')
  },
  (t) => [
    index('retrieval_attempts_retrieval_idx').on(t.retrievalId),
    index('retrieval_attempts_provider_idx').on(t.provider)
  ]
)

/** A want refused or answered DONT_HAVE, with why: what `explain` shows as "who asked". */
export const refusals = pgTable(
  'refusals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    cid: text('cid').notNull(),
    cidKey: text('cid_key').notNull(),
    peer: text('peer').notNull(),
    reason: text('reason').notNull(),
    policyVersion: integer('policy_version').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** The instance-name of the node that refused ('' for rows written before 0003). */
    instance: text('instance').notNull().default('')
  },
  (t) => [
    index('refusals_cid_key_idx').on(t.cidKey, t.at.desc()),
    uniqueIndex('refusals_natural_key').on(t.cidKey, t.peer, t.at, t.reason)
  ]
)
