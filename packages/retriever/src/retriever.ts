import { randomUUID } from 'node:crypto'
import type { QueryResponse } from '@autoretrieve/filecoin'
import { type Candidate, LookupQueueFullError, type TransportProtocol } from '@autoretrieve/routing'
import type { CID } from 'multiformats/cid'
import { type AttemptComponents, runAttempt } from './attempt.ts'
import { findCandidates, mergeByPeer, orderCandidates, screenCandidates } from './candidates.ts'
import { judgePrice, paymentCapsFor } from './caps.ts'
import {
  DEFAULT_MAX_CONCURRENT_RETRIEVALS,
  DEFAULT_MAX_QUEUED_RETRIEVALS,
  DEFAULT_PEER_RETRIEVAL_BURST,
  DEFAULT_PEER_RETRIEVAL_RATE,
  DEFAULT_PROTOCOL_STAGGER_MS
} from './constants.ts'
import { type AttemptError, QueueFullError, RetrievalFailedError } from './errors.ts'
import { type Running, RunningRetrievals } from './joining.ts'
import { KeyedLimiter } from './limiter.ts'
import { queryPhase } from './query-phase.ts'
import { race } from './race.ts'
import { createRateLimiter } from './rate-limiter.ts'
import { ProviderScores } from './scores.ts'
import type {
  FailureReason,
  RetrievalResult,
  RetrieveOptions,
  Retriever,
  RetrieverComponents,
  RetrieverInit
} from './types.ts'

/**
 * The retrieval engine: one retrieval per root at a time, shared by every waiter (joining.ts).
 * Candidates pass the policy (candidates.ts); protocols race, HTTP first and the next after a
 * stagger, the first to deliver a verified block wins and the others are cancelled; within a
 * protocol candidates are raced a stagger apart too, and one without a first verified block by
 * `first-byte-timeout` fails at once (race.ts, attempt.ts). Every block is checked against its hash and
 * the DAG walk and written to the cache as it arrives (intake.ts, attempt.ts), so peers waiting on
 * the cache are served while the retrieval goes on.
 */
export function createRetriever(components: RetrieverComponents, init: RetrieverInit = {}): Retriever {
  const { candidates, records, events, logger, payments } = components
  const adapters = new Map(components.adapters.map((a) => [a.protocol, a]))
  const stagger = init.staggerMs ?? DEFAULT_PROTOCOL_STAGGER_MS
  const globalSlots = new KeyedLimiter()
  const maxConcurrent = init.maxConcurrentRetrievals ?? DEFAULT_MAX_CONCURRENT_RETRIEVALS
  const maxQueued = init.maxQueuedRetrievals ?? DEFAULT_MAX_QUEUED_RETRIEVALS
  // Per requester, on new retrievals only: the state outlives a connection (keyed by peer ID or client).
  const admission = createRateLimiter({
    ratePerSecond: init.requesterRatePerSecond ?? DEFAULT_PEER_RETRIEVAL_RATE,
    burst: init.requesterBurst ?? DEFAULT_PEER_RETRIEVAL_BURST
  })
  const scores = new ProviderScores()
  const running = new RunningRetrievals<RetrievalResult>()
  const counters = { active: 0, succeeded: 0, failed: 0, bytes: 0, blocks: 0 }
  const failures: Partial<Record<FailureReason, number>> = {}
  let rateLimited = 0
  const attempts: AttemptComponents = {
    cache: components.cache,
    scores,
    providerSlots: new KeyedLimiter(),
    records,
    events,
    logger,
    counters
  }

  function retrieve(cid: CID, options: RetrieveOptions = {}): Promise<RetrievalResult> {
    // Admission: a want that would start a retrieval costs its requester a token; one that joins a
    // retrieval in flight (its root, or a block it has seen a link to) costs nothing.
    const requester = options.requestedBy
    if (requester !== undefined && !running.covers(cid) && !admission.tryTake(requester)) {
      rateLimited++
      events?.onRateLimited?.()
      const root = cid.toString()
      const error = new Error(`${requester} is past its rate of new retrievals; ${root} was not retrieved`)
      return Promise.resolve({ ok: false, id: randomUUID(), root, reason: 'rate_limited', error })
    }
    return running.join(cid, options, (entry) => run(cid, entry, options))
  }

  async function run(cid: CID, entry: Running, options: RetrieveOptions): Promise<RetrievalResult> {
    const { signal } = entry
    const id = randomUUID()
    const root = cid.toString()
    const snapshot = components.policy()
    const startedAt = Date.now()
    const tried: string[] = []
    /** attoFIL paid by this retrieval's attempts, failed ones included. */
    let cost = 0n
    counters.active++
    records?.record({
      type: 'retrieval-started',
      id,
      rootCid: root,
      requestedCid: root,
      requestedBy: [...entry.requestedBy],
      policyVersion: snapshot.version,
      at: new Date()
    })
    const finish = (outcome: RetrievalResult): RetrievalResult => {
      const result: RetrievalResult = cost > 0n ? { ...outcome, cost } : outcome
      counters.active--
      if (result.ok) counters.succeeded++
      else {
        counters.failed++
        failures[result.reason] = (failures[result.reason] ?? 0) + 1
      }
      records?.record({
        type: 'retrieval-finished',
        id,
        status: result.ok ? 'success' : 'failed',
        reason: result.ok ? null : result.reason,
        // Bounded, and without NULs (PostgreSQL text refuses them): it may quote a provider's or indexer's words.
        error: result.ok ? null : result.error.message.replaceAll('\u0000', '').slice(0, 2_000),
        bytes: result.ok ? result.bytes : 0,
        blocks: result.ok ? result.blocks : 0,
        ...(cost > 0n ? { cost: String(cost) } : {}),
        at: new Date()
      })
      events?.onRetrievalEnded?.(result.ok, result.ok ? undefined : result.reason)
      events?.onRetrievalFinished?.({
        id,
        cid: root,
        ok: result.ok,
        ...(result.ok ? { provider: result.provider, protocol: result.protocol } : { reason: result.reason }),
        providersTried: tried,
        bytes: result.ok ? result.bytes : 0,
        blocks: result.ok ? result.blocks : 0,
        durationMs: Date.now() - startedAt,
        ...(cost > 0n ? { cost } : {})
      })
      if (!result.ok) logger?.info({ cid: root, reason: result.reason, err: result.error.message }, 'retrieval failed')
      return result
    }
    const fail = (reason: FailureReason, error: Error) => finish({ ok: false, id, root, reason, error })

    // 1. Candidates: the operator's (fetch --provider) or the source's, through the policy.
    let found = options.providers ?? []
    let lookupError: Error | undefined
    if (options.providers === undefined) {
      try {
        const lookup = await findCandidates(candidates, cid, { signal, logger })
        found = lookup.found
        lookupError = lookup.error
      } catch (err) {
        return fail('retrieval_failed', err as Error)
      }
    }
    found = mergeByPeer(found)
    const { accepted, verdicts } = screenCandidates(
      found,
      snapshot,
      (protocol, c) => adapters.get(protocol)?.supports(c) ?? false
    )
    records?.record({
      type: 'candidates',
      retrievalId: id,
      source: found[0]?.source ?? 'ipni',
      candidates: verdicts,
      at: new Date()
    })
    events?.onCandidates?.(found.length, accepted.length)
    options.onProgress?.({ type: 'candidates', found: found.length, accepted: accepted.length })
    if (found.length === 0) {
      // A lookup that failed is not "nobody has it": the indexer could not say (or we did not ask).
      if (lookupError instanceof LookupQueueFullError) return fail('overloaded', lookupError)
      if (lookupError !== undefined) return fail('indexer_failed', lookupError)
      return fail('no_candidates', new Error(`no provider has ${root}`))
    }
    if (accepted.length === 0)
      return fail('all_filtered', new Error(`every provider of ${root} was excluded by policy`))

    // 2. The race, under the global limit.
    let releaseGlobal: () => void
    try {
      releaseGlobal = await globalSlots.acquire('global', maxConcurrent, signal, maxQueued)
    } catch (err) {
      return fail(err instanceof QueueFullError ? 'overloaded' : 'retrieval_failed', err as Error)
    }
    // Graphsync candidates are queried first (/fil/retrieval/qry/1.0.0), beside the other lanes:
    // their lane starts with the answers, ranked by price; a priced or unavailable one gets no proposal.
    const ordered: Map<TransportProtocol, Candidate[] | AsyncIterable<readonly Candidate[]>> = orderCandidates(
      accepted,
      scores
    )
    const passedOver: AttemptError[] = []
    const queries = new AbortController()
    const paidRetrievals = init.paidRetrievals ?? false
    // The answer each Graphsync candidate gave: the attempt proposes at its terms.
    const asks = new WeakMap<Candidate, QueryResponse>()
    const graphsync = adapters.get('graphsync')
    const graphsyncCandidates = ordered.get('graphsync')
    if (graphsync?.query !== undefined && Array.isArray(graphsyncCandidates)) {
      ordered.set(
        'graphsync',
        queryPhase({
          adapter: graphsync,
          candidates: graphsyncCandidates,
          root: cid,
          signal: AbortSignal.any([signal, queries.signal]),
          paidRetrievals,
          timeoutMs: init.queryTimeoutMs,
          asks,
          judgePrice: (candidate, ask) =>
            judgePrice(ask, paymentCapsFor(snapshot, candidate), payments, candidate.peerId),
          onPassedOver: (candidate, error, queriedAt) => {
            passedOver.push(error)
            records?.record({
              type: 'attempt',
              id: randomUUID(),
              retrievalId: id,
              provider: candidate.peerId,
              protocol: 'graphsync',
              startedAt: queriedAt,
              connectedAt: null,
              firstByteAt: null,
              endedAt: new Date(),
              bytes: 0,
              blocks: 0,
              outcome: 'failed',
              errorClass: error.errorClass,
              errorMessage: error.message
            })
            options.onProgress?.({
              type: 'attempt-failed',
              provider: candidate.peerId,
              protocol: 'graphsync',
              errorClass: error.errorClass,
              message: error.message
            })
            logger?.debug(
              { provider: candidate.peerId, errorClass: error.errorClass, err: error.message },
              'passed over'
            )
          },
          onSettled: (summary) => events?.onQueries?.(summary)
        })
      )
    }
    try {
      const outcome = await race({
        candidates: ordered,
        staggerMs: stagger,
        candidateStaggerMs: init.candidateStaggerMs,
        signal,
        attempt: async (a) => {
          const result = await runAttempt(attempts, {
            retrievalId: id,
            root: cid,
            candidate: a.candidate,
            adapter: adapters.get(a.protocol)!,
            signal: a.signal,
            snapshot,
            onProgress: options.onProgress,
            onLinks: (links) => entry.expect(links),
            onFirstBlock: a.onFirstBlock,
            waitForSlot: a.waitForSlot,
            ask: a.protocol === 'graphsync' ? asks.get(a.candidate) : undefined,
            payments: paidRetrievals ? payments : undefined,
            onCost: (paid) => {
              cost += paid
            }
          })
          // Passed over as busy is not tried.
          if (!('busy' in result) && !tried.includes(a.candidate.peerId)) tried.push(a.candidate.peerId)
          return result
        }
      })
      if (outcome.ok) {
        const { blocks, bytes, candidate, protocol } = outcome
        return finish({ ok: true, id, root, blocks, bytes, provider: candidate.peerId, protocol })
      }
      if (signal.aborted) return fail('retrieval_failed', signal.reason as Error)
      const errors = [...passedOver, ...outcome.errors]
      const reason: FailureReason =
        errors.length > 0 && errors.every((e) => e.errorClass === 'timeout') ? 'timeout' : 'retrieval_failed'
      const message = `all ${errors.length} attempts for ${root} failed: ${errors.map((e) => e.message).join('; ')}`
      return fail(reason, new RetrievalFailedError(reason, errors, message))
    } finally {
      queries.abort()
      releaseGlobal()
    }
  }

  return {
    retrieve,
    async missHandler(miss, options) {
      const result = await retrieve(miss.cid, { signal: options.signal, requestedBy: miss.peer.toString() })
      return result.ok ? { ok: true } : { ok: false, reason: result.reason }
    },
    stats: () => ({ ...counters, inflight: running.size, failures: { ...failures }, rateLimited })
  }
}
