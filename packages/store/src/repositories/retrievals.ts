import { and, desc, eq, inArray, lt, or, type SQL, sql } from 'drizzle-orm'
import type { Database } from '../connect.ts'
import { InvalidCursorError, toStoreError } from '../errors.ts'
import { cidKey } from '../keys.ts'
import { refusals, retrievalAttempts, retrievalCandidates, retrievals } from '../schema/index.ts'
import type {
  AbortOptions,
  AttemptRecord,
  CandidateRecord,
  RecordEvent,
  RefusalRecord,
  RetrievalDetail,
  RetrievalQuery,
  RetrievalSummary
} from '../types.ts'

export interface RetrievalRepository {
  write(events: RecordEvent[], options?: AbortOptions): Promise<void>
  list(q: RetrievalQuery, options?: AbortOptions): Promise<{ items: RetrievalSummary[]; nextCursor: string | null }>
  get(id: string, options?: AbortOptions): Promise<RetrievalDetail | null>
  explain(cid: string, options?: AbortOptions): Promise<{ retrievals: RetrievalDetail[]; refusals: RefusalRecord[] }>
}

const MAX_LIMIT = 500
const EXPLAIN_LIMIT = 20

type Started = Extract<RecordEvent, { type: 'retrieval-started' }>
type Finished = Extract<RecordEvent, { type: 'retrieval-finished' }>
type Attempt = Extract<RecordEvent, { type: 'attempt' }>

function encodeCursor(row: { startedAt: Date; id: string }): string {
  return Buffer.from(`${row.startedAt.toISOString()}|${row.id}`).toString('base64url')
}

function decodeCursor(cursor: string): { startedAt: Date; id: string } {
  const [ts, id] = Buffer.from(cursor, 'base64url').toString().split('|')
  const startedAt = new Date(ts)
  if (!id || Number.isNaN(startedAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) {
    throw new InvalidCursorError(`cursor "${cursor}" is not one this API gave out`)
  }
  return { startedAt, id }
}

function summary(r: typeof retrievals.$inferSelect): RetrievalSummary {
  return {
    id: r.id,
    rootCid: r.rootCid,
    requestedCid: r.requestedCid,
    requestedBy: r.requestedBy,
    policyVersion: r.policyVersion,
    status: r.status,
    reason: r.reason,
    bytes: r.bytes,
    blocks: r.blocks,
    startedAt: r.startedAt,
    endedAt: r.endedAt
  }
}

export function createRetrievalRepository(db: Database): RetrievalRepository {
  async function details(rows: Array<typeof retrievals.$inferSelect>): Promise<RetrievalDetail[]> {
    if (rows.length === 0) return []
    const ids = rows.map((r) => r.id)
    const cands = await db
      .select()
      .from(retrievalCandidates)
      .where(inArray(retrievalCandidates.retrievalId, ids))
      .orderBy(retrievalCandidates.id)
    const atts = await db
      .select()
      .from(retrievalAttempts)
      .where(inArray(retrievalAttempts.retrievalId, ids))
      .orderBy(retrievalAttempts.startedAt)
    return rows.map((r) => ({
      ...summary(r),
      candidates: cands
        .filter((c) => c.retrievalId === r.id)
        .map(({ id: _id, retrievalId: _r, ...c }): CandidateRecord => c),
      attempts: atts.filter((a) => a.retrievalId === r.id).map(({ retrievalId: _r, ...a }): AttemptRecord => a)
    }))
  }

  return {
    /**
     * One batch in one transaction. Events may repeat (a retried batch) or arrive split across
     * batches: retrievals and attempts are upserted by id, later events winning.
     */
    async write(events) {
      if (events.length === 0) return
      const started = new Map<string, Started>()
      const finished = new Map<string, Finished>()
      const attempts = new Map<string, Attempt>()
      const candidateRows: Array<typeof retrievalCandidates.$inferInsert> = []
      const refusalRows: Array<typeof refusals.$inferInsert> = []
      for (const e of events) {
        if (e.type === 'retrieval-started') started.set(e.id, e)
        else if (e.type === 'retrieval-finished') finished.set(e.id, e)
        else if (e.type === 'attempt') attempts.set(e.id, e)
        else if (e.type === 'candidates') {
          for (const c of e.candidates)
            candidateRows.push({ retrievalId: e.retrievalId, source: e.source, at: e.at, ...c })
        } else
          refusalRows.push({
            cid: e.cid,
            cidKey: cidKey(e.cid),
            peer: e.peer,
            reason: e.reason,
            policyVersion: e.policyVersion,
            at: e.at
          })
      }
      try {
        await db.transaction(async (tx) => {
          if (started.size > 0) {
            await tx
              .insert(retrievals)
              .values(
                [...started.values()].map((s) => ({
                  id: s.id,
                  rootCid: s.rootCid,
                  rootKey: cidKey(s.rootCid),
                  requestedCid: s.requestedCid,
                  requestedKey: cidKey(s.requestedCid),
                  requestedBy: s.requestedBy,
                  policyVersion: s.policyVersion,
                  startedAt: s.at
                }))
              )
              .onConflictDoUpdate({
                target: retrievals.id,
                set: {
                  rootCid: sql`excluded.root_cid`,
                  rootKey: sql`excluded.root_key`,
                  requestedCid: sql`excluded.requested_cid`,
                  requestedKey: sql`excluded.requested_key`,
                  requestedBy: sql`excluded.requested_by`,
                  policyVersion: sql`excluded.policy_version`,
                  startedAt: sql`excluded.started_at`
                }
              })
          }
          if (finished.size > 0) {
            await tx
              .insert(retrievals)
              .values(
                [...finished.values()].map((f) => ({
                  id: f.id,
                  status: f.status,
                  reason: f.reason,
                  bytes: f.bytes,
                  blocks: f.blocks,
                  startedAt: f.at,
                  endedAt: f.at
                }))
              )
              .onConflictDoUpdate({
                target: retrievals.id,
                set: {
                  status: sql`excluded.status`,
                  reason: sql`excluded.reason`,
                  bytes: sql`excluded.bytes`,
                  blocks: sql`excluded.blocks`,
                  endedAt: sql`excluded.ended_at`
                }
              })
          }
          if (attempts.size > 0) {
            const rows = [...attempts.values()].map(({ type: _t, ...a }) => a)
            await tx
              .insert(retrievalAttempts)
              .values(rows)
              .onConflictDoUpdate({
                target: retrievalAttempts.id,
                set: {
                  connectedAt: sql`excluded.connected_at`,
                  firstByteAt: sql`excluded.first_byte_at`,
                  endedAt: sql`excluded.ended_at`,
                  bytes: sql`excluded.bytes`,
                  blocks: sql`excluded.blocks`,
                  outcome: sql`excluded.outcome`,
                  errorClass: sql`excluded.error_class`,
                  errorMessage: sql`excluded.error_message`
                }
              })
          }
          if (candidateRows.length > 0) await tx.insert(retrievalCandidates).values(candidateRows)
          if (refusalRows.length > 0) await tx.insert(refusals).values(refusalRows)
        })
      } catch (err) {
        throw toStoreError(err, 'writing retrieval records')
      }
    },

    async list(q) {
      const limit = Math.max(1, Math.min(q.limit ?? 50, MAX_LIMIT))
      const where: SQL[] = []
      if (q.cid) {
        const key = cidKey(q.cid)
        where.push(or(eq(retrievals.rootKey, key), eq(retrievals.requestedKey, key))!)
      }
      if (q.status) where.push(eq(retrievals.status, q.status))
      if (q.provider) {
        where.push(
          sql`exists (select 1 from ${retrievalAttempts} where ${retrievalAttempts.retrievalId} = ${retrievals.id} and ${retrievalAttempts.provider} = ${q.provider})`
        )
      }
      if (q.cursor) {
        const c = decodeCursor(q.cursor)
        where.push(
          or(
            lt(retrievals.startedAt, c.startedAt),
            and(eq(retrievals.startedAt, c.startedAt), lt(retrievals.id, c.id))
          )!
        )
      }
      try {
        const rows = await db
          .select()
          .from(retrievals)
          .where(where.length > 0 ? and(...where) : undefined)
          .orderBy(desc(retrievals.startedAt), desc(retrievals.id))
          .limit(limit + 1)
        const items = rows.slice(0, limit).map(summary)
        return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null }
      } catch (err) {
        throw toStoreError(err, 'listing retrievals')
      }
    },

    async get(id) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return null
      try {
        const rows = await db.select().from(retrievals).where(eq(retrievals.id, id))
        return (await details(rows))[0] ?? null
      } catch (err) {
        throw toStoreError(err, 'reading a retrieval')
      }
    },

    async explain(cid) {
      const key = cidKey(cid)
      try {
        const rows = await db
          .select()
          .from(retrievals)
          .where(or(eq(retrievals.rootKey, key), eq(retrievals.requestedKey, key)))
          .orderBy(desc(retrievals.startedAt))
          .limit(EXPLAIN_LIMIT)
        const refused = await db
          .select()
          .from(refusals)
          .where(eq(refusals.cidKey, key))
          .orderBy(desc(refusals.at))
          .limit(100)
        return {
          retrievals: await details(rows),
          refusals: refused.map((r) => ({ peer: r.peer, reason: r.reason, policyVersion: r.policyVersion, at: r.at }))
        }
      } catch (err) {
        throw toStoreError(err, 'explaining a CID')
      }
    }
  }
}
