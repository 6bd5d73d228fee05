import { CANDIDATE_STAGGER_MS, MAX_RACING_ATTEMPTS_PER_PROTOCOL } from '@autoretrieve/interface'
import type { Candidate, TransportProtocol } from '@autoretrieve/routing'
import type { AttemptResult } from './attempt.ts'
import { MAX_REQUEUES, PROTOCOL_ORDER } from './constants.ts'
import { AttemptError } from './errors.ts'

export interface RaceAttempt {
  protocol: TransportProtocol
  candidate: Candidate
  /** Aborted when the retrieval ends or another attempt delivered first. */
  signal: AbortSignal
  /** The attempt calls this on its first verified block: the others are cancelled then. */
  onFirstBlock(): void
  /** This candidate was found busy before and the others went ahead of it: wait for its slot. */
  waitForSlot: boolean
}

export interface RaceOptions {
  /**
   * Candidates by protocol, best first (see `orderCandidates`); or, for a protocol whose order is
   * still being learnt (Graphsync's query phase), batches as they are ranked: the lane starts with
   * the first batch, later ones join its back, and the race waits for the feed before it gives up.
   */
  candidates: ReadonlyMap<TransportProtocol, readonly Candidate[] | AsyncIterable<readonly Candidate[]>>
  /** Each protocol's first candidate starts this long after the previous protocol's (PROTOCOL_ORDER). */
  staggerMs: number
  /** The next candidate of a protocol starts this long after the one before it. @default CANDIDATE_STAGGER_MS */
  candidateStaggerMs?: number
  /** Attempts of one protocol at once. @default MAX_RACING_ATTEMPTS_PER_PROTOCOL */
  maxPerProtocol?: number
  /** The retrieval's signal: nothing new starts once it aborts. */
  signal: AbortSignal
  attempt(attempt: RaceAttempt): Promise<AttemptResult>
}

export type RaceResult =
  | { ok: true; protocol: TransportProtocol; candidate: Candidate; blocks: number; bytes: number }
  | { ok: false; errors: AttemptError[] }

interface Entry {
  candidate: Candidate
  requeues: number
  /** Found at its max-concurrent-retrievals once: next time, wait for its slot. */
  busy?: boolean
}

interface Lane {
  protocol: TransportProtocol
  queue: Entry[]
  /** When (performance.now()) the lane may start its next candidate. */
  dueAt: number
  running: number
  /** A feed of candidates is still coming. */
  pending: boolean
}

interface Running {
  lane: Lane
  entry: Entry
  controller: AbortController
  settled: Promise<void>
}

/**
 * Races candidates, within a protocol and across protocols, with staggers. Each protocol is a lane:
 * its first candidate starts `staggerMs` after the previous protocol's (HTTP first), and its next
 * candidate `candidateStaggerMs` after the one before it, or at once when that one fails; at most
 * `maxPerProtocol` run in a lane. A hanging candidate so costs at most the stagger (and its
 * first-byte timeout ends it). The first attempt to deliver a verified block wins: every other one
 * is cancelled and nothing new starts while it runs. If it then fails, the race goes on: a
 * cancelled candidate went back to the front of its queue (at most MAX_REQUEUES times). Ends when
 * one succeeds or every queue is empty and nothing runs; every attempt has settled when it returns.
 */
export async function race(options: RaceOptions): Promise<RaceResult> {
  const { signal, staggerMs } = options
  const candidateStaggerMs = options.candidateStaggerMs ?? CANDIDATE_STAGGER_MS
  const width = Math.max(1, options.maxPerProtocol ?? MAX_RACING_ATTEMPTS_PER_PROTOCOL)
  const start = performance.now()
  const feeds = new Map<Lane, AsyncIterable<readonly Candidate[]>>()
  const lanes: Lane[] = PROTOCOL_ORDER.filter((p) => {
    const list = options.candidates.get(p)
    return list !== undefined && (!Array.isArray(list) || list.length > 0)
  }).map((protocol, i) => {
    const list = options.candidates.get(protocol)!
    const lane: Lane = {
      protocol,
      queue: Array.isArray(list) ? list.map((candidate) => ({ candidate, requeues: 0 })) : [],
      dueAt: start + i * staggerMs,
      running: 0,
      pending: !Array.isArray(list)
    }
    if (!Array.isArray(list)) feeds.set(lane, list as AsyncIterable<readonly Candidate[]>)
    return lane
  })
  const running = new Set<Running>()
  const errors: AttemptError[] = []
  let winner: Running | undefined
  let result: RaceResult | undefined
  let wake: () => void = () => {}
  const onAbort = () => wake()
  signal.addEventListener('abort', onAbort)
  let over = false
  for (const [lane, feed] of feeds) {
    ;(async () => {
      try {
        for await (const batch of feed) {
          if (over) break
          lane.queue.push(...batch.map((candidate) => ({ candidate, requeues: 0 })))
          wake()
        }
      } catch {
        // A feed that fails adds no more candidates; what it gave is still raced.
      } finally {
        lane.pending = false
        wake()
      }
    })()
  }

  const cancelOthers = (keep: Running | undefined, why: string) => {
    for (const r of running) if (r !== keep) r.controller.abort(new DOMException(why, 'AbortError'))
  }

  const settle = (r: Running, outcome: AttemptResult) => {
    running.delete(r)
    r.lane.running--
    const now = performance.now()
    if (outcome.ok) {
      result ??= {
        ok: true,
        protocol: r.lane.protocol,
        candidate: r.entry.candidate,
        blocks: outcome.blocks,
        bytes: outcome.bytes
      }
      cancelOthers(undefined, 'another attempt completed the retrieval')
    } else if (outcome.cancelled) {
      if (r.entry.requeues < MAX_REQUEUES) {
        r.lane.queue.unshift({ ...r.entry, requeues: r.entry.requeues + 1 })
        // Its turn comes again as soon as nothing is winning (the winner blocks new starts meanwhile).
        r.lane.dueAt = Math.min(r.lane.dueAt, now)
      }
    } else if ('busy' in outcome) {
      // Go's rule: a provider at its limit is passed over for the next candidate. It goes to the
      // back of its queue and, once it is all that is left, is waited for rather than dropped.
      r.lane.queue.push({ ...r.entry, busy: true })
      r.lane.dueAt = now
    } else {
      errors.push(outcome.error)
      r.lane.dueAt = now // its successor starts at once
    }
    if (winner === r) {
      winner = undefined
      // The winner failed: start over with the protocols a stagger apart, as at the beginning.
      let i = 0
      for (const lane of lanes) if (lane.queue.length > 0) lane.dueAt = Math.min(lane.dueAt, now + i++ * staggerMs)
    }
    wake()
  }

  const launch = (lane: Lane) => {
    const entry = lane.queue.shift()!
    const controller = new AbortController()
    lane.running++
    lane.dueAt = performance.now() + candidateStaggerMs
    const r = { lane, entry, controller } as Running
    running.add(r)
    r.settled = Promise.resolve()
      .then(() =>
        options.attempt({
          protocol: lane.protocol,
          candidate: entry.candidate,
          signal: AbortSignal.any([signal, controller.signal]),
          waitForSlot: entry.busy === true,
          onFirstBlock: () => {
            if (winner !== undefined || result !== undefined || !running.has(r)) return
            winner = r
            cancelOthers(r, 'another attempt delivered first')
          }
        })
      )
      .then(
        (outcome) => settle(r, outcome),
        (err) =>
          settle(r, {
            ok: false,
            cancelled: false,
            error: new AttemptError('other', `${entry.candidate.peerId}: ${(err as Error).message}`, { cause: err })
          })
      )
  }

  try {
    while (result === undefined && !signal.aborted) {
      const now = performance.now()
      let nextDue = Number.POSITIVE_INFINITY
      if (winner === undefined) {
        for (const lane of lanes) {
          if (lane.queue.length === 0 || lane.running >= width) continue
          if (now >= lane.dueAt) launch(lane)
          if (lane.queue.length > 0 && lane.running < width) nextDue = Math.min(nextDue, lane.dueAt)
        }
      }
      if (running.size === 0 && lanes.every((l) => l.queue.length === 0 && !l.pending)) break
      await new Promise<void>((resolve) => {
        wake = resolve
        if (Number.isFinite(nextDue)) {
          const timer = setTimeout(resolve, Math.max(0, nextDue - performance.now()))
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        }
      })
    }
  } finally {
    over = true
    signal.removeEventListener('abort', onAbort)
    cancelOthers(undefined, 'the retrieval ended')
    await Promise.all([...running].map((r) => r.settled))
  }
  return result ?? { ok: false, errors }
}
