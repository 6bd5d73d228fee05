import { and, asc, eq, gte, isNull, sql } from 'drizzle-orm'
import type { DbOrTx } from '../connect.ts'
import { toStoreError } from '../errors.ts'
import { paychChannels, paychLanes, paychVouchers } from '../schema/index.ts'

/**
 * Serialises voucher writes across processes sharing one database: the day's spend is read and
 * charged under it, so two vouchers cannot both fit under max-spend-per-day that together pass it.
 */
const VOUCHER_LOCK_KEY = 0x61727032 // 'arp2'

export interface StoredChannel {
  address: string
  idAddress: string
  from: string
  to: string
  /** attoFIL this node put in (create + add-funds). */
  funded: bigint
  /** Sum of every lane's last voucher amount. */
  paid: bigint
  lanes: number
  settlingAt: number | null
  collectedAt: Date | null
  createdAt: Date
}

export interface StoredLane {
  channel: string
  lane: number
  provider: string
  nonce: number
  amount: bigint
}

/** What recordVoucher did: the nonce to sign with, or why it refused. */
export type VoucherOutcome =
  | { ok: true; nonce: number; delta: bigint; spentToday: bigint }
  | { ok: false; reason: 'spend_limit'; spentToday: bigint; delta: bigint }
  | { ok: false; reason: 'amount_decreased'; last: bigint }
  | { ok: false; reason: 'no_lane' }

export interface PaychRepository {
  /** Every channel (newest first) with what its lanes have paid. */
  listChannels(): Promise<StoredChannel[]>
  getChannel(address: string): Promise<StoredChannel | null>
  /** The open (not settling, not collected) channel from `from` to `to`, if any: one channel per pair is reused. */
  openChannel(from: string, to: string): Promise<StoredChannel | null>
  /** Stores a new channel (or opens a stored one with that address again). */
  addChannel(c: { address: string; idAddress: string; from: string; to: string; funded: bigint }): Promise<void>
  /** Records funds added by a Send to the channel. */
  addFunds(address: string, amount: bigint): Promise<void>
  markSettling(address: string, settlingAt: number): Promise<void>
  markCollected(address: string, at?: Date): Promise<void>
  /** A new lane on `channel`, allocated in one statement so two callers never get the same one. */
  allocateLane(channel: string, provider: string): Promise<StoredLane>
  getLane(channel: string, lane: number): Promise<StoredLane | null>
  /**
   * In one transaction: checks `amount` is not below the lane's last, charges what it adds to the
   * UTC day of `now` (refusing past `maxSpendPerDay`), writes the voucher row and the lane's new
   * nonce. Committed before the voucher is signed, so a crash after it can only skip a nonce.
   */
  recordVoucher(v: {
    channel: string
    lane: number
    amount: bigint
    maxSpendPerDay?: bigint
    now?: Date
  }): Promise<VoucherOutcome>
  /** attoFIL the vouchers of `now`'s UTC day added. */
  spentToday(now?: Date): Promise<bigint>
}

/** Midnight UTC of the day holding `now`. */
export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
}

export function createPaychRepository(db: DbOrTx): PaychRepository {
  const wrap = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw toStoreError(err, what)
    }
  }

  const channels = async (where?: ReturnType<typeof eq>): Promise<StoredChannel[]> => {
    const paid = db
      .select({
        channel: paychLanes.channel,
        paid: sql<string>`coalesce(sum(${paychLanes.amount}), 0)::text`.as('paid'),
        lanes: sql<number>`count(*)::int`.as('lanes')
      })
      .from(paychLanes)
      .groupBy(paychLanes.channel)
      .as('paid')
    const rows = await db
      .select({ c: paychChannels, paid: paid.paid, lanes: paid.lanes })
      .from(paychChannels)
      .leftJoin(paid, eq(paid.channel, paychChannels.address))
      .where(where)
      .orderBy(sql`${paychChannels.createdAt} desc`, asc(paychChannels.address))
    return rows.map(({ c, paid, lanes }) => ({
      address: c.address,
      idAddress: c.idAddress,
      from: c.fromAddress,
      to: c.toAddress,
      funded: BigInt(c.funded),
      paid: BigInt(paid ?? '0'),
      lanes: lanes ?? 0,
      settlingAt: c.settlingAt,
      collectedAt: c.collectedAt,
      createdAt: c.createdAt
    }))
  }

  const spent = async (tx: DbOrTx, now: Date): Promise<bigint> => {
    const [row] = await tx
      .select({ sum: sql<string>`coalesce(sum(${paychVouchers.delta}), 0)::text` })
      .from(paychVouchers)
      .where(gte(paychVouchers.at, utcDayStart(now)))
    return BigInt(row?.sum ?? '0')
  }

  return {
    listChannels: () => wrap('listing payment channels', () => channels()),
    getChannel: (address) =>
      wrap('reading a payment channel', async () => (await channels(eq(paychChannels.address, address)))[0] ?? null),
    openChannel: (from, to) =>
      wrap('reading a payment channel', async () => {
        const found = await channels(
          and(
            eq(paychChannels.fromAddress, from),
            eq(paychChannels.toAddress, to),
            isNull(paychChannels.settlingAt),
            isNull(paychChannels.collectedAt)
          )
        )
        return found[0] ?? null
      }),
    addChannel: (c) =>
      wrap('storing a payment channel', async () => {
        const row = {
          address: c.address,
          idAddress: c.idAddress,
          fromAddress: c.from,
          toAddress: c.to,
          funded: c.funded.toString()
        }
        // The same robust address again (a new chain on which the wallet's nonce started over):
        // the row is open again; its lanes keep their numbers and nonces, so none is reused.
        await db
          .insert(paychChannels)
          .values(row)
          .onConflictDoUpdate({
            target: paychChannels.address,
            set: { ...row, settlingAt: null, collectedAt: null }
          })
      }),
    addFunds: (address, amount) =>
      wrap('storing added funds', async () => {
        await db
          .update(paychChannels)
          .set({ funded: sql`${paychChannels.funded} + ${amount.toString()}::numeric` })
          .where(eq(paychChannels.address, address))
      }),
    markSettling: (address, settlingAt) =>
      wrap('storing a settle', async () => {
        await db.update(paychChannels).set({ settlingAt }).where(eq(paychChannels.address, address))
      }),
    markCollected: (address, at = new Date()) =>
      wrap('storing a collect', async () => {
        await db.update(paychChannels).set({ collectedAt: at }).where(eq(paychChannels.address, address))
      }),
    allocateLane: (channel, provider) =>
      wrap('allocating a lane', async () => {
        return db.transaction(async (tx) => {
          const [row] = await tx
            .update(paychChannels)
            .set({ nextLane: sql`${paychChannels.nextLane} + 1` })
            .where(eq(paychChannels.address, channel))
            .returning({ lane: sql<number>`${paychChannels.nextLane} - 1` })
          if (row === undefined) throw new Error(`no payment channel ${channel} in the database`)
          await tx.insert(paychLanes).values({ channel, lane: row.lane, provider })
          return { channel, lane: row.lane, provider, nonce: 0, amount: 0n }
        })
      }),
    getLane: (channel, lane) =>
      wrap('reading a lane', async () => {
        const [row] = await db
          .select()
          .from(paychLanes)
          .where(and(eq(paychLanes.channel, channel), eq(paychLanes.lane, lane)))
        return row === undefined ? null : { ...row, amount: BigInt(row.amount) }
      }),
    recordVoucher: (v) =>
      wrap('recording a voucher', async () => {
        const now = v.now ?? new Date()
        return db.transaction(async (tx): Promise<VoucherOutcome> => {
          await tx.execute(sql`select pg_advisory_xact_lock(${VOUCHER_LOCK_KEY})`)
          const [lane] = await tx
            .select()
            .from(paychLanes)
            .where(and(eq(paychLanes.channel, v.channel), eq(paychLanes.lane, v.lane)))
            .for('update')
          if (lane === undefined) return { ok: false, reason: 'no_lane' }
          const last = BigInt(lane.amount)
          if (v.amount < last) return { ok: false, reason: 'amount_decreased', last }
          const delta = v.amount - last
          const spentToday = await spent(tx, now)
          if (v.maxSpendPerDay !== undefined && spentToday + delta > v.maxSpendPerDay)
            return { ok: false, reason: 'spend_limit', spentToday, delta }
          const nonce = lane.nonce + 1
          await tx
            .update(paychLanes)
            .set({ nonce, amount: v.amount.toString() })
            .where(and(eq(paychLanes.channel, v.channel), eq(paychLanes.lane, v.lane)))
          await tx.insert(paychVouchers).values({
            channel: v.channel,
            lane: v.lane,
            nonce,
            amount: v.amount.toString(),
            delta: delta.toString(),
            at: now
          })
          return { ok: true, nonce, delta, spentToday: spentToday + delta }
        })
      }),
    spentToday: (now = new Date()) => wrap('reading the day’s spend', () => spent(db, now))
  }
}
