import { bigint, index, integer, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

/*
 * Payment channels this node opened (issue 16). Amounts are attoFIL in numeric(78,0), read back as
 * decimal strings: a FIL amount in attoFIL passes 2^63 at ~9.2 FIL, so bigint columns would not do.
 */

/** One row per channel: from the node's wallet to one provider payment address. */
export const paychChannels = pgTable(
  'paych_channels',
  {
    /** The channel's robust address (f2…), as vouchers and messages name it. */
    address: text('address').primaryKey(),
    /** Its ID address (f0…) from the init actor's ExecReturn. */
    idAddress: text('id_address').notNull(),
    fromAddress: text('from_address').notNull(),
    toAddress: text('to_address').notNull(),
    /** The next lane to hand out: lanes are allocated by incrementing it in one statement. */
    nextLane: integer('next_lane').notNull().default(0),
    /** attoFIL this node has put in (create + every add-funds), for `paych list` when Lotus is down. */
    funded: numeric('funded', { precision: 78, scale: 0 }).notNull().default('0'),
    /** The epoch a Settle makes it collectable from; null while it is open (only open ones are reused). */
    settlingAt: bigint('settling_at', { mode: 'number' }),
    collectedAt: timestamp('collected_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
  },
  (t) => [index('paych_channels_from_to_idx').on(t.fromAddress, t.toAddress)]
)

/** One row per lane: its last voucher's nonce and cumulative amount (0/0 before the first). */
export const paychLanes = pgTable(
  'paych_lanes',
  {
    channel: text('channel').notNull(),
    lane: integer('lane').notNull(),
    /** The provider (peer ID or f0…) the lane was opened for. */
    provider: text('provider').notNull(),
    nonce: bigint('nonce', { mode: 'number' }).notNull().default(0),
    amount: numeric('amount', { precision: 78, scale: 0 }).notNull().default('0'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow()
  },
  (t) => [primaryKey({ columns: [t.channel, t.lane] })]
)

/**
 * Every voucher handed out, written before it is signed: the nonce is never reused after a crash.
 * `delta` is what it added over the lane's previous voucher: the day's spend is the sum of deltas.
 */
export const paychVouchers = pgTable(
  'paych_vouchers',
  {
    channel: text('channel').notNull(),
    lane: integer('lane').notNull(),
    nonce: bigint('nonce', { mode: 'number' }).notNull(),
    amount: numeric('amount', { precision: 78, scale: 0 }).notNull(),
    delta: numeric('delta', { precision: 78, scale: 0 }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull()
  },
  (t) => [
    uniqueIndex('paych_vouchers_lane_nonce_idx').on(t.channel, t.lane, t.nonce),
    index('paych_vouchers_at_idx').on(t.at)
  ]
)
