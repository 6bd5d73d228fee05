import { type AbortOptions, cidKey, type ErrorClass } from '@autoretrieve/interface'
import { and, desc, eq, getTableColumns, inArray, lt, or, type SQL, sql } from 'drizzle-orm'
import type { DbOrTx } from '../connect.ts'
import { DEFAULT_LIST_LIMIT, EXPLAIN_REFUSALS_LIMIT, EXPLAIN_RETRIEVALS_LIMIT, MAX_LIST_LIMIT } from '../constants.ts'
import { InvalidCursorError, throwIfAborted, toStoreError } from '../errors.ts'
import { refusals, retrievalAttempts, retrievalCandidates, retrievals } from '../schema/index.ts'
import type {
  AttemptRecord,
  CandidateRecord,
  RecordEvent,
  RefusalRecord,
  RetrievalDetail,
  RetrievalQuery,
  RetrievalSummary
} from '../types.ts'
import { writeRecords } from './retrieval-writes.ts'

export interface RetrievalRepository {
  /** One batch, one transaction, idempotent (see writeRecords); rows are stamped with `instance`. */
  write(events: RecordEvent[], options?: AbortOptions & { instance?: string }): Promise<void>
  /** Newest first, keyset-paginated: pass `nextCursor` back as `cursor` for the next page. */
  list(q: RetrievalQuery, options?: AbortOptions): Promise<{ items: RetrievalSummary[]; nextCursor: string | null }>
  /** With its candidates and attempts; null when there is no such retrieval. */
  get(id: string, options?: AbortOptions): Promise<RetrievalDetail | null>
  /** Retrievals whose root or requested CID has this CID's multihash, and refusals of it. */
  explain(cid: string, options?: AbortOptions): Promise<ExplainResult>
}

export interface ExplainResult {
  retrievals: RetrievalDetail[]
  refusals: RefusalRecord[]
}

type RetrievalRow = typeof retrievals.$inferSelect & { paidByAttempts: string | null }

/**
 * A retrieval's row with what its attempts paid, summed in SQL (numeric: exact): the retrieval's
 * cost while it runs, and when its finish record carried none. One indexed subquery per row.
 */
const withPaid = {
  ...getTableColumns(retrievals),
  // Spelled out: drizzle writes a column of the selected table unqualified, which inside the
  // subquery would name the attempt's own id.
  paidByAttempts: sql<
    string | null
  >`(select sum(a.cost)::text from retrieval_attempts a where a.retrieval_id = "retrievals"."id")`
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function encodeCursor(row: { startedAt: Date; id: string }): string {
  return Buffer.from(`${row.startedAt.toISOString()}|${row.id}`).toString('base64url')
}

function decodeCursor(cursor: string): { startedAt: Date; id: string } {
  const [ts, id] = Buffer.from(cursor, 'base64url').toString().split('|')
  const startedAt = new Date(ts)
  if (!id || Number.isNaN(startedAt.getTime()) || !UUID.test(id)) {
    throw new InvalidCursorError(`cursor "${cursor.slice(0, 100)}" is not one this API gave out`, {
      cause: { cursor }
    })
  }
  return { startedAt, id }
}

function summary(r: RetrievalRow): RetrievalSummary {
  return {
    id: r.id,
    instance: r.instance,
    rootCid: r.rootCid,
    requestedCid: r.requestedCid,
    requestedBy: r.requestedBy,
    policyVersion: r.policyVersion,
    status: r.status as RetrievalSummary['status'],
    reason: r.reason,
    error: r.errorMessage,
    bytes: r.bytes,
    blocks: r.blocks,
    cost: r.cost ?? r.paidByAttempts,
    startedAt: r.startedAt,
    endedAt: r.endedAt
  }
}

/** Summaries joined with their candidates and attempts (two queries, whatever the row count). */
export async function retrievalDetails(db: DbOrTx, rows: RetrievalRow[]): Promise<RetrievalDetail[]> {
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
    .orderBy(retrievalAttempts.startedAt, retrievalAttempts.id)
  return rows.map((r) => ({
    ...summary(r),
    candidates: cands
      .filter((c) => c.retrievalId === r.id)
      .map(
        (c): CandidateRecord => ({
          source: c.source as CandidateRecord['source'],
          provider: c.provider,
          protocols: c.protocols,
          addrs: c.addrs,
          verdict: c.verdict as CandidateRecord['verdict'],
          reason: c.reason,
          policyVersion: c.policyVersion,
          at: c.at
        })
      ),
    attempts: atts
      .filter((a) => a.retrievalId === r.id)
      .map(
        ({ retrievalId: _r, ...a }): AttemptRecord => ({
          ...a,
          protocol: a.protocol as AttemptRecord['protocol'],
          outcome: a.outcome as AttemptRecord['outcome'],
          // The column is text; only the retriever's AttemptError classes are written to it.
          errorClass: a.errorClass as ErrorClass | null
        })
      )
  }))
}

export async function listRetrievals(
  db: DbOrTx,
  q: RetrievalQuery
): Promise<{ items: RetrievalSummary[]; nextCursor: string | null }> {
  const limit = Math.max(1, Math.min(Math.trunc(q.limit ?? DEFAULT_LIST_LIMIT), MAX_LIST_LIMIT))
  const where: SQL[] = []
  if (q.cid) {
    const key = cidKey(q.cid)
    where.push(or(eq(retrievals.rootKey, key), eq(retrievals.requestedKey, key))!)
  }
  if (q.status) where.push(eq(retrievals.status, q.status))
  if (q.provider) {
    // A retrieval "involves" a provider it made an attempt with.
    where.push(
      sql`exists (select 1 from ${retrievalAttempts} where ${retrievalAttempts.retrievalId} = ${retrievals.id} and ${retrievalAttempts.provider} = ${q.provider})`
    )
  }
  if (q.cursor) {
    const c = decodeCursor(q.cursor)
    where.push(
      or(lt(retrievals.startedAt, c.startedAt), and(eq(retrievals.startedAt, c.startedAt), lt(retrievals.id, c.id)))!
    )
  }
  const rows = await db
    .select(withPaid)
    .from(retrievals)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(retrievals.startedAt), desc(retrievals.id))
    .limit(limit + 1)
  const items = rows.slice(0, limit).map(summary)
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null }
}

export async function getRetrieval(db: DbOrTx, id: string): Promise<RetrievalDetail | null> {
  if (!UUID.test(id)) return null
  const rows = await db.select(withPaid).from(retrievals).where(eq(retrievals.id, id))
  return (await retrievalDetails(db, rows))[0] ?? null
}

export async function explainCid(db: DbOrTx, cid: string): Promise<ExplainResult> {
  const key = cidKey(cid)
  const rows = await db
    .select(withPaid)
    .from(retrievals)
    .where(or(eq(retrievals.rootKey, key), eq(retrievals.requestedKey, key)))
    .orderBy(desc(retrievals.startedAt), desc(retrievals.id))
    .limit(EXPLAIN_RETRIEVALS_LIMIT)
  const refused = await db
    .select()
    .from(refusals)
    .where(eq(refusals.cidKey, key))
    .orderBy(desc(refusals.at), desc(refusals.id))
    .limit(EXPLAIN_REFUSALS_LIMIT)
  return {
    retrievals: await retrievalDetails(db, rows),
    refusals: refused.map((r) => ({
      instance: r.instance,
      peer: r.peer,
      reason: r.reason,
      policyVersion: r.policyVersion,
      at: r.at
    }))
  }
}

export function createRetrievalRepository(db: DbOrTx): RetrievalRepository {
  async function run<R>(what: string, options: AbortOptions | undefined, fn: () => Promise<R>): Promise<R> {
    throwIfAborted(options?.signal)
    try {
      return await fn()
    } catch (err) {
      if (err instanceof InvalidCursorError) throw err
      throw toStoreError(err, what)
    }
  }
  return {
    write: (events, options) =>
      run('writing retrieval records', options, () => writeRecords(db, events, options?.instance)),
    list: (q, options) => run('listing retrievals', options, () => listRetrievals(db, q)),
    get: (id, options) => run('reading a retrieval', options, () => getRetrieval(db, id)),
    explain: (cid, options) => run('explaining a CID', options, () => explainCid(db, cid))
  }
}
