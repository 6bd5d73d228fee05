import { cidKey } from '@autoretrieve/interface'
import { sql } from 'drizzle-orm'
import type { DbOrTx } from '../connect.ts'
import { refusals, retrievalAttempts, retrievalCandidates, retrievals } from '../schema/index.ts'
import type { RecordEvent } from '../types.ts'

type Started = Extract<RecordEvent, { type: 'retrieval-started' }>
type Finished = Extract<RecordEvent, { type: 'retrieval-finished' }>
type Attempt = Extract<RecordEvent, { type: 'attempt' }>

const AMOUNT = /^\d{1,78}$/
/**
 * An amount as the numeric(78,0) column takes it, or null. Anything else (a negative, a fraction,
 * a typo) is not written: PostgreSQL would refuse it and with it the whole batch, again on every
 * retry, and the history would stop. An amount is telemetry here; the payment manager keeps the
 * authoritative ledger.
 */
function attoFil(value: string | null | undefined): string | null {
  return typeof value === 'string' && AMOUNT.test(value) ? value : null
}

/** The later record of an attempt, keeping the larger cost and a known channel (as the upsert below does across batches). */
function withPaymentOf(earlier: Attempt | undefined, later: Attempt): Attempt {
  const before = attoFil(earlier?.cost)
  if (before === null) return later
  const after = attoFil(later.cost)
  return {
    ...later,
    cost: after !== null && BigInt(after) >= BigInt(before) ? after : before,
    paymentChannel: later.paymentChannel ?? earlier?.paymentChannel ?? null
  }
}

/**
 * Writes one batch of events in one transaction, idempotently: retrievals and attempts are
 * upserted by id (the later event in the batch wins), candidates and refusals are skipped when
 * their natural key is already there. So a batch written twice, or events split across batches
 * in any order (an attempt before its retrieval, a finish before its start), end the same.
 * Retrievals and refusals are stamped with `instance`, the instance-name of the node writing:
 * a batch holds one process's events, so the writer knows who made them.
 */
export async function writeRecords(db: DbOrTx, events: RecordEvent[], instance = ''): Promise<void> {
  if (events.length === 0) return
  const started = new Map<string, Started>()
  const finished = new Map<string, Finished>()
  const attempts = new Map<string, Attempt>()
  const candidateRows: Array<typeof retrievalCandidates.$inferInsert> = []
  const refusalRows: Array<typeof refusals.$inferInsert> = []
  for (const e of events) {
    if (e.type === 'retrieval-started') started.set(e.id, e)
    else if (e.type === 'retrieval-finished') finished.set(e.id, e)
    else if (e.type === 'attempt') attempts.set(e.id, withPaymentOf(attempts.get(e.id), e))
    else if (e.type === 'candidates') {
      for (const c of e.candidates) {
        candidateRows.push({
          retrievalId: e.retrievalId,
          source: e.source,
          at: e.at,
          provider: c.provider,
          protocols: c.protocols,
          addrs: c.addrs,
          verdict: c.verdict,
          reason: c.reason,
          policyVersion: c.policyVersion
        })
      }
    } else {
      refusalRows.push({
        cid: e.cid,
        cidKey: cidKey(e.cid),
        peer: e.peer,
        reason: e.reason,
        policyVersion: e.policyVersion,
        at: e.at,
        instance
      })
    }
  }
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
            startedAt: s.at,
            instance
          }))
        )
        .onConflictDoUpdate({
          target: retrievals.id,
          // status/bytes/ended_at are left alone: a finish may have landed first.
          set: {
            rootCid: sql`excluded.root_cid`,
            rootKey: sql`excluded.root_key`,
            requestedCid: sql`excluded.requested_cid`,
            requestedKey: sql`excluded.requested_key`,
            requestedBy: sql`excluded.requested_by`,
            policyVersion: sql`excluded.policy_version`,
            startedAt: sql`excluded.started_at`,
            instance: sql`excluded.instance`
          }
        })
    }
    if (finished.size > 0) {
      await tx
        .insert(retrievals)
        .values(
          // A finish without its start (start dropped in an outage) still makes a row, dated at the finish.
          [...finished.values()].map((f) => ({
            id: f.id,
            status: f.status,
            reason: f.reason,
            errorMessage: f.error ?? null,
            cost: attoFil(f.cost),
            bytes: f.bytes,
            blocks: f.blocks,
            startedAt: f.at,
            endedAt: f.at,
            instance
          }))
        )
        .onConflictDoUpdate({
          target: retrievals.id,
          set: {
            status: sql`excluded.status`,
            reason: sql`excluded.reason`,
            errorMessage: sql`excluded.error_message`,
            cost: sql`coalesce(excluded.cost, ${retrievals.cost})`,
            bytes: sql`excluded.bytes`,
            blocks: sql`excluded.blocks`,
            endedAt: sql`excluded.ended_at`
          }
        })
    }
    if (attempts.size > 0) {
      const rows = [...attempts.values()].map(({ type: _t, cost, paymentChannel, ...a }) => ({
        ...a,
        cost: attoFil(cost),
        paymentChannel: paymentChannel ?? null
      }))
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
            errorMessage: sql`excluded.error_message`,
            // An attempt's cost only grows (each voucher's amount is cumulative on its lane), and a
            // record without one (a 'running' record, an older writer) must not erase it: the
            // largest known wins whatever order the records land in (greatest() skips nulls).
            cost: sql`greatest(${retrievalAttempts.cost}, excluded.cost)`,
            paymentChannel: sql`coalesce(excluded.payment_channel, ${retrievalAttempts.paymentChannel})`
          }
        })
    }
    if (candidateRows.length > 0) await tx.insert(retrievalCandidates).values(candidateRows).onConflictDoNothing()
    if (refusalRows.length > 0) await tx.insert(refusals).values(refusalRows).onConflictDoNothing()
  })
}
