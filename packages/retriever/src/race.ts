import { setTimeout as sleep } from 'node:timers/promises'
import type { Candidate, TransportProtocol } from '@autoretrieve/routing'
import type { AttemptResult } from './attempt.ts'
import { MAX_REQUEUES, PROTOCOL_ORDER } from './constants.ts'
import type { AttemptError } from './errors.ts'

export interface RaceAttempt {
  protocol: TransportProtocol
  candidate: Candidate
  /** Aborted when the retrieval ends or another protocol delivered first. */
  signal: AbortSignal
  /** The attempt calls this on its first verified block: the others are cancelled then. */
  onFirstBlock(): void
  /** This candidate was found busy before and nothing else is left ahead of it: wait for its slot. */
  waitForSlot: boolean
}

export interface RaceOptions {
  /** Candidates by protocol, best first (see `orderCandidates`). */
  candidates: ReadonlyMap<TransportProtocol, readonly Candidate[]>
  /** The next protocol of a round starts this long after the one before it. */
  staggerMs: number
  /** The retrieval's signal: no new round starts once it aborts. */
  signal: AbortSignal
  attempt(attempt: RaceAttempt): Promise<AttemptResult>
}

export type RaceResult =
  | { ok: true; protocol: TransportProtocol; candidate: Candidate; blocks: number; bytes: number }
  | { ok: false; errors: AttemptError[] }

/**
 * Races the protocols in rounds. Each round takes the best remaining candidate of every protocol
 * and starts them a stagger apart (in PROTOCOL_ORDER); the first to deliver a verified block wins
 * and the others are cancelled. A cancelled candidate goes back to the front of its queue (at most
 * MAX_REQUEUES times), so a protocol that lost one round to a slow winner that then failed still
 * gets its turn. Rounds go on until one succeeds or every queue is empty.
 */
export async function race(options: RaceOptions): Promise<RaceResult> {
  const { signal, staggerMs } = options
  const queues = new Map<TransportProtocol, Array<{ candidate: Candidate; requeues: number; busy?: boolean }>>()
  for (const protocol of PROTOCOL_ORDER) {
    const list = options.candidates.get(protocol) ?? []
    if (list.length > 0)
      queues.set(
        protocol,
        list.map((candidate) => ({ candidate, requeues: 0, busy: false }))
      )
  }
  const errors: AttemptError[] = []
  while ([...queues.values()].some((q) => q.length > 0)) {
    if (signal.aborted) break
    const heads = PROTOCOL_ORDER.filter((p) => (queues.get(p)?.length ?? 0) > 0).map((protocol) => ({
      protocol,
      entry: queues.get(protocol)!.shift()!
    }))
    let winner: number | undefined
    const controllers = heads.map(() => new AbortController())
    const outcomes = await Promise.all(
      heads.map(async ({ protocol, entry }, i): Promise<AttemptResult> => {
        const attemptSignal = AbortSignal.any([signal, controllers[i].signal])
        if (i > 0) {
          try {
            await sleep(i * staggerMs, undefined, { signal: attemptSignal })
          } catch {
            return { ok: false, cancelled: true }
          }
        }
        if (winner !== undefined) return { ok: false, cancelled: true }
        return options.attempt({
          protocol,
          candidate: entry.candidate,
          signal: attemptSignal,
          waitForSlot: entry.busy === true,
          onFirstBlock: () => {
            if (winner !== undefined) return
            winner = i
            controllers.forEach((c, j) => {
              if (j !== i) c.abort(new DOMException('another protocol delivered first', 'AbortError'))
            })
          }
        })
      })
    )
    for (const [i, outcome] of outcomes.entries()) {
      const { protocol, entry } = heads[i]
      if (outcome.ok)
        return { ok: true, protocol, candidate: entry.candidate, blocks: outcome.blocks, bytes: outcome.bytes }
      if (outcome.cancelled) {
        if (entry.requeues < MAX_REQUEUES) queues.get(protocol)!.unshift({ ...entry, requeues: entry.requeues + 1 })
      } else if ('busy' in outcome) {
        // Go's rule: a provider at its limit is passed over for the next candidate. It goes to the
        // back of its queue and, once it is all that is left, is waited for rather than dropped.
        queues.get(protocol)!.push({ ...entry, busy: true })
      } else errors.push(outcome.error)
    }
  }
  return { ok: false, errors }
}
