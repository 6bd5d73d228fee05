import { randomUUID } from 'node:crypto'
import { blockMatches } from '@autoretrieve/blockcache'
import { minerConfigFor, type PolicySnapshot, providerVerdict } from '@autoretrieve/policy'
import type { Candidate, CandidateSource, TransportProtocol } from '@autoretrieve/routing'
import type { RecordEvent } from '@autoretrieve/store'
import type { CID } from 'multiformats/cid'
import {
  DEFAULT_CACHE_WRITES_IN_FLIGHT,
  DEFAULT_PROTOCOL_STAGGER_MS,
  MAX_REQUEUES,
  YIELD_EVERY_MS
} from './constants.ts'
import { AttemptError, RetrievalFailedError } from './errors.ts'
import { KeyedLimiter } from './limiter.ts'
import { ProviderScores } from './scores.ts'
import type { FailureReason, Logger, ProtocolAdapter, RetrievalProgress, RetrievalResult } from './types.ts'
import { DagVerifier } from './verifier.ts'

export interface RetrieverEvents {
  onCandidates?(found: number, accepted: number): void
  onAttemptStarted?(protocol: TransportProtocol): void
  onAttemptEnded?(
    protocol: TransportProtocol,
    outcome: 'success' | 'failed' | 'cancelled',
    info: { bytes: number; durationMs: number; ttfbMs?: number; errorClass?: string }
  ): void
  onRetrievalEnded?(ok: boolean, reason?: FailureReason): void
  onBytes?(protocol: TransportProtocol, bytes: number): void
}

export interface RetrieverComponents {
  cache: {
    has(cid: CID): Promise<boolean>
    get(cid: CID): Promise<Uint8Array | undefined>
    /** `hashChecked`: the bytes were checked against the CID before the DAG walk (here, or by the adapter). */
    put(cid: CID, bytes: Uint8Array, options?: { signal?: AbortSignal; hashChecked?: boolean }): Promise<boolean>
  }
  /** The current policy snapshot (read at each decision, so a change applies at once). */
  policy: () => PolicySnapshot
  candidates: CandidateSource
  adapters: ProtocolAdapter[]
  records?: { record(event: RecordEvent): void }
  events?: RetrieverEvents
  logger?: Logger
}

export interface RetrieverInit {
  /** Retrievals at once across all providers; 0 = unlimited. */
  maxConcurrentRetrievals?: number
  staggerMs?: number
}

export interface RetrieveOptions {
  signal?: AbortSignal
  /** The peer whose want started this (records "who asked"). */
  requestedBy?: string
  /** Use these instead of asking the indexer (the `fetch --provider` command). */
  providers?: Candidate[]
  onProgress?(event: RetrievalProgress): void
}

interface InFlight {
  promise: Promise<RetrievalResult>
  controller: AbortController
  waiters: number
  requestedBy: Set<string>
}

type AttemptOutcome =
  | { ok: true; blocks: number; bytes: number }
  | { ok: false; cancelled: true }
  | { ok: false; cancelled: false; error: AttemptError }

const PROTOCOL_ORDER: TransportProtocol[] = ['http', 'bitswap', 'graphsync']
const keyOf = (cid: CID) => Buffer.from(cid.multihash.bytes).toString('base64')
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(signal.reason)
      },
      { once: true }
    )
  })

/**
 * The retrieval engine: one retrieval per root at a time, shared by every waiter. Candidates pass
 * the policy; protocols race (HTTP first, the next after a stagger), the first to deliver a
 * verified block wins and the others are cancelled; within a protocol candidates are tried in
 * turn. Every block is checked against its hash and the DAG walk and written to the cache as it
 * arrives, so peers waiting on the cache are served while the retrieval goes on.
 */
export function createRetriever(components: RetrieverComponents, init: RetrieverInit = {}) {
  const { cache, candidates, records, events, logger } = components
  const adapters = new Map(components.adapters.map((a) => [a.protocol, a]))
  const stagger = init.staggerMs ?? DEFAULT_PROTOCOL_STAGGER_MS
  const providerSlots = new KeyedLimiter()
  const globalSlots = new KeyedLimiter()
  const scores = new ProviderScores()
  const inflight = new Map<string, InFlight>()
  /**
   * Blocks a running retrieval is about to deliver (links of blocks it verified), so a want for a
   * child of a DAG being retrieved joins that retrieval instead of starting its own.
   */
  const expected = new Map<string, InFlight>()
  const counters = { active: 0, succeeded: 0, failed: 0, bytes: 0, blocks: 0 }

  function retrieve(cid: CID, options: RetrieveOptions = {}): Promise<RetrievalResult> {
    const key = keyOf(cid)
    let entry = inflight.get(key) ?? expected.get(key)
    if (entry === undefined) {
      const controller = new AbortController()
      const created: InFlight = { controller, waiters: 0, requestedBy: new Set(), promise: Promise.resolve() as never }
      if (options.requestedBy) created.requestedBy.add(options.requestedBy)
      created.promise = run(cid, controller.signal, created, options).finally(() => {
        inflight.delete(key)
        for (const [k, e] of expected) if (e === created) expected.delete(k)
      })
      inflight.set(key, created)
      entry = created
    } else if (options.requestedBy) entry.requestedBy.add(options.requestedBy)
    const shared = entry
    shared.waiters++
    const signal = options.signal
    if (signal === undefined) return shared.promise
    return new Promise<RetrievalResult>((resolve, reject) => {
      const onAbort = () => {
        // This waiter leaves; the retrieval goes on while anyone else still waits for it.
        if (--shared.waiters === 0) shared.controller.abort(signal.reason)
        reject(signal.reason)
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      shared.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  async function run(
    cid: CID,
    signal: AbortSignal,
    entry: InFlight,
    options: RetrieveOptions
  ): Promise<RetrievalResult> {
    const id = randomUUID()
    const root = cid.toString()
    const snapshot = components.policy()
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
    const finish = (result: RetrievalResult): RetrievalResult => {
      counters.active--
      if (result.ok) counters.succeeded++
      else counters.failed++
      records?.record({
        type: 'retrieval-finished',
        id,
        status: result.ok ? 'success' : 'failed',
        reason: result.ok ? null : result.reason,
        bytes: result.ok ? result.bytes : 0,
        blocks: result.ok ? result.blocks : 0,
        at: new Date()
      })
      events?.onRetrievalEnded?.(result.ok, result.ok ? undefined : result.reason)
      if (!result.ok) logger?.info({ cid: root, reason: result.reason, err: result.error.message }, 'retrieval failed')
      return result
    }
    const fail = (reason: FailureReason, error: Error) => finish({ ok: false, id, root, reason, error })

    // 1. Candidates.
    let found: Candidate[] = options.providers ?? []
    let lookupError: Error | undefined
    if (options.providers === undefined) {
      try {
        for await (const c of candidates.find(cid, { signal })) found.push(c)
      } catch (err) {
        if (signal.aborted) return fail('retrieval_failed', err as Error)
        lookupError = err as Error
        logger?.warn({ cid: root, err: (err as Error).message }, 'candidate lookup failed')
      }
    }
    found = mergeByPeer(found)
    const accepted: Candidate[] = []
    const verdicts = found.map((c) => {
      const verdict = providerVerdict(snapshot, [c.peerId, ...(c.minerAddress ? [c.minerAddress] : [])])
      let reason: string | null = verdict.allowed ? null : verdict.reason
      const usable = c.protocols.filter((p) => snapshot.retrievalProtocols.has(p) && adapters.get(p)?.supports(c))
      if (reason === null && usable.length === 0) reason = 'protocol_disabled'
      if (reason === null) accepted.push({ ...c, protocols: usable })
      return {
        provider: c.peerId,
        protocols: c.protocols,
        addrs: c.addrs,
        verdict: reason === null ? ('accepted' as const) : ('dropped' as const),
        reason,
        policyVersion: snapshot.version
      }
    })
    records?.record({
      type: 'candidates',
      retrievalId: id,
      source: found[0]?.source ?? 'ipni',
      candidates: verdicts,
      at: new Date()
    })
    events?.onCandidates?.(found.length, accepted.length)
    options.onProgress?.({ type: 'candidates', found: found.length, accepted: accepted.length })
    if (found.length === 0) return fail('no_candidates', lookupError ?? new Error(`no provider has ${root}`))
    if (accepted.length === 0)
      return fail('all_filtered', new Error(`every provider of ${root} was excluded by policy`))

    // 2. Attempts, under the global limit.
    let releaseGlobal: () => void
    try {
      releaseGlobal = await globalSlots.acquire('global', init.maxConcurrentRetrievals ?? 0, signal)
    } catch (err) {
      return fail('retrieval_failed', err as Error)
    }
    try {
      const queues = new Map<TransportProtocol, Array<{ candidate: Candidate; requeues: number }>>()
      for (const protocol of PROTOCOL_ORDER) {
        const list = accepted
          .filter((c) => c.protocols.includes(protocol))
          .sort((a, b) => rank(b) - rank(a))
          .map((candidate) => ({ candidate, requeues: 0 }))
        if (list.length > 0) queues.set(protocol, list)
      }
      const errors: AttemptError[] = []
      while ([...queues.values()].some((q) => q.length > 0)) {
        if (signal.aborted) break
        const heads = PROTOCOL_ORDER.filter((p) => (queues.get(p)?.length ?? 0) > 0).map((p) => ({
          protocol: p,
          entry: queues.get(p)!.shift()!
        }))
        let winner: number | undefined
        const controllers = heads.map(() => new AbortController())
        const outcomes = await Promise.all(
          heads.map(async ({ protocol, entry: head }, i) => {
            if (i > 0) {
              try {
                await sleep(i * stagger, AbortSignal.any([signal, controllers[i].signal]))
              } catch {
                return { ok: false, cancelled: true } as AttemptOutcome
              }
            }
            if (winner !== undefined) return { ok: false, cancelled: true } as AttemptOutcome
            return attempt(
              entry,
              id,
              cid,
              head.candidate,
              adapters.get(protocol)!,
              AbortSignal.any([signal, controllers[i].signal]),
              snapshot,
              options,
              () => {
                if (winner !== undefined) return
                winner = i
                controllers.forEach((c, j) => {
                  if (j !== i) c.abort(new DOMException('another protocol delivered first', 'AbortError'))
                })
              }
            )
          })
        )
        for (const [i, outcome] of outcomes.entries()) {
          if (outcome.ok) {
            const c = heads[i].entry.candidate
            return finish({
              ok: true,
              id,
              root,
              blocks: outcome.blocks,
              bytes: outcome.bytes,
              provider: c.peerId,
              protocol: heads[i].protocol
            })
          }
          if (outcome.cancelled) {
            const { entry: head, protocol } = heads[i]
            if (head.requeues < MAX_REQUEUES) queues.get(protocol)!.unshift({ ...head, requeues: head.requeues + 1 })
          } else errors.push(outcome.error)
        }
      }
      if (signal.aborted) return fail('retrieval_failed', signal.reason as Error)
      const reason: FailureReason =
        errors.length > 0 && errors.every((e) => e.errorClass === 'timeout') ? 'timeout' : 'retrieval_failed'
      return fail(
        reason,
        new RetrievalFailedError(
          reason,
          errors,
          `all ${errors.length} attempts for ${root} failed: ${errors.map((e) => e.message).join('; ')}`
        )
      )
    } finally {
      releaseGlobal()
    }
  }

  function rank(c: Candidate): number {
    const bonus = (c.graphsync?.verifiedDeal ? 0.02 : 0) + (c.graphsync?.fastRetrieval ? 0.01 : 0)
    return scores.score(c.peerId) + bonus
  }

  async function attempt(
    owner: InFlight,
    retrievalId: string,
    root: CID,
    candidate: Candidate,
    adapter: ProtocolAdapter,
    parent: AbortSignal,
    snapshot: PolicySnapshot,
    options: RetrieveOptions,
    onFirstBlock: () => void
  ): Promise<AttemptOutcome> {
    const ids = [candidate.peerId, ...(candidate.minerAddress ? [candidate.minerAddress] : [])]
    const limits = minerConfigFor(snapshot, ids)
    let release: () => void
    try {
      release = await providerSlots.acquire(candidate.peerId, limits.maxConcurrentRetrievals, parent)
    } catch {
      return { ok: false, cancelled: true }
    }
    const id = randomUUID()
    const startedAt = new Date()
    const timeout = new AbortController()
    const signal = AbortSignal.any([parent, timeout.signal])
    let connectedAt: Date | null = null
    let firstByteAt: Date | null = null
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      clearTimeout(timer)
      if (limits.retrievalTimeoutMs > 0) {
        timer = setTimeout(
          () =>
            timeout.abort(
              new AttemptError(
                'timeout',
                `no verified bytes from ${candidate.peerId} for ${limits.retrievalTimeoutMs} ms`
              )
            ),
          limits.retrievalTimeoutMs
        )
      }
    }
    const verifier = new DagVerifier(root, adapter.ordered)
    const record = (outcome: 'running' | 'success' | 'failed' | 'cancelled', error?: AttemptError) =>
      records?.record({
        type: 'attempt',
        id,
        retrievalId,
        provider: candidate.peerId,
        protocol: adapter.protocol,
        startedAt,
        connectedAt,
        firstByteAt,
        endedAt: outcome === 'running' ? null : new Date(),
        bytes: verifier.bytes,
        blocks: verifier.blocks,
        outcome,
        errorClass: error?.errorClass ?? null,
        errorMessage: error?.message ?? null
      })
    /** Cache writes still running, oldest first (at most DEFAULT_CACHE_WRITES_IN_FLIGHT). */
    const writes: Array<Promise<boolean>> = []
    let lastYield = performance.now()
    record('running')
    events?.onAttemptStarted?.(adapter.protocol)
    options.onProgress?.({ type: 'attempt-started', provider: candidate.peerId, protocol: adapter.protocol })
    arm()
    try {
      const blocks = adapter.retrieve(candidate, root, {
        signal,
        getLocal: (cid) => cache.get(cid),
        onConnected: () => {
          connectedAt = new Date()
          arm()
        }
      })
      for await (const block of blocks) {
        if (!block.local && !block.hashed && !blockMatches(block.cid, block.bytes)) {
          throw new AttemptError('wrong_block', `${candidate.peerId} sent bytes that do not hash to ${block.cid}`)
        }
        for (const link of verifier.accept(block.cid, block.bytes)) {
          const k = keyOf(link)
          if (!expected.has(k)) expected.set(k, owner)
        }
        if (!block.local) {
          // Verified above (hashed, or its CID made from these bytes), walked just now: the cache
          // announces it at once and writes it behind us.
          const write = cache.put(block.cid, block.bytes, { hashChecked: true })
          write.catch(() => {}) // awaited below; a failure ends the attempt there
          writes.push(write)
          if (writes.length >= DEFAULT_CACHE_WRITES_IN_FLIGHT) await writes.shift()
          counters.bytes += block.bytes.byteLength
          counters.blocks++
          events?.onBytes?.(adapter.protocol, block.bytes.byteLength)
        }
        if (firstByteAt === null) {
          firstByteAt = new Date()
          onFirstBlock()
        }
        arm()
        options.onProgress?.({ type: 'block', blocks: verifier.blocks, bytes: verifier.bytes })
        if (performance.now() - lastYield >= YIELD_EVERY_MS) {
          // Let the node read its sockets (wants, window updates) between blocks.
          await new Promise<void>((resolve) => setImmediate(resolve))
          lastYield = performance.now()
        }
        if (limits.maxBytesPerSecond > 0) {
          const due = (verifier.bytes / limits.maxBytesPerSecond) * 1000 - (Date.now() - startedAt.getTime())
          if (due > 0) await sleep(due, signal)
        }
      }
      if (!verifier.complete) {
        throw new AttemptError('incomplete', `${candidate.peerId} stopped before sending ${verifier.nextMissing}`)
      }
      await Promise.all(writes.splice(0))
      record('success')
      const durationMs = Date.now() - startedAt.getTime()
      const ttfbMs = firstByteAt ? (firstByteAt as Date).getTime() - startedAt.getTime() : undefined
      scores.record(candidate.peerId, { ok: true, ttfbMs, bytes: verifier.bytes, durationMs })
      events?.onAttemptEnded?.(adapter.protocol, 'success', { bytes: verifier.bytes, durationMs, ttfbMs })
      return { ok: true, blocks: verifier.blocks, bytes: verifier.bytes }
    } catch (err) {
      const durationMs = Date.now() - startedAt.getTime()
      if (parent.aborted && !timeout.signal.aborted) {
        record('cancelled')
        events?.onAttemptEnded?.(adapter.protocol, 'cancelled', { bytes: verifier.bytes, durationMs })
        return { ok: false, cancelled: true }
      }
      const error =
        timeout.signal.aborted && timeout.signal.reason instanceof AttemptError
          ? timeout.signal.reason
          : err instanceof AttemptError
            ? err
            : new AttemptError('other', `${candidate.peerId}: ${(err as Error).message}`, { cause: err })
      record('failed', error)
      scores.record(candidate.peerId, { ok: false })
      events?.onAttemptEnded?.(adapter.protocol, 'failed', {
        bytes: verifier.bytes,
        durationMs,
        errorClass: error.errorClass
      })
      options.onProgress?.({
        type: 'attempt-failed',
        provider: candidate.peerId,
        protocol: adapter.protocol,
        errorClass: error.errorClass,
        message: error.message
      })
      logger?.debug(
        { provider: candidate.peerId, protocol: adapter.protocol, errorClass: error.errorClass, err: error.message },
        'attempt failed'
      )
      return { ok: false, cancelled: false, error }
    } finally {
      clearTimeout(timer)
      await Promise.allSettled(writes.splice(0)) // nothing of this attempt is left writing
      release()
    }
  }

  return {
    retrieve,
    /** The Bitswap server's miss handler: a want for a block we lack starts (or joins) its retrieval. */
    missHandler: async (miss: { cid: CID; peer: { toString(): string } }, opts: { signal: AbortSignal }) => {
      const result = await retrieve(miss.cid, { signal: opts.signal, requestedBy: miss.peer.toString() })
      return result.ok ? ({ ok: true } as const) : ({ ok: false, reason: result.reason } as const)
    },
    stats: () => ({ ...counters, inflight: inflight.size })
  }
}

export type Retriever = ReturnType<typeof createRetriever>

/** One candidate per peer: IPNI lists a provider once per protocol (extended providers). */
function mergeByPeer(list: Candidate[]): Candidate[] {
  const byPeer = new Map<string, Candidate>()
  for (const c of list) {
    const prev = byPeer.get(c.peerId)
    if (prev === undefined) {
      byPeer.set(c.peerId, { ...c, addrs: [...c.addrs], protocols: [...c.protocols], httpUrls: [...c.httpUrls] })
      continue
    }
    prev.addrs = [...new Set([...prev.addrs, ...c.addrs])]
    prev.protocols = [...new Set([...prev.protocols, ...c.protocols])]
    prev.httpUrls = [...new Set([...prev.httpUrls, ...c.httpUrls])]
    prev.graphsync ??= c.graphsync
    prev.minerAddress ??= c.minerAddress
  }
  return [...byPeer.values()]
}
