import { randomUUID } from 'node:crypto'
import { isPricedAsk, type QueryResponse } from '@autoretrieve/filecoin'
import { DEFAULT_FIRST_BYTE_TIMEOUT_MS, type Logger } from '@autoretrieve/interface'
import { minerConfigFor, type PolicySnapshot } from '@autoretrieve/policy'
import type { Candidate } from '@autoretrieve/routing'
import type { CID } from 'multiformats/cid'
import { paymentCapsFor } from './caps.ts'
import { AttemptError } from './errors.ts'
import { BlockIntake } from './intake.ts'
import type { KeyedLimiter } from './limiter.ts'
import type { ProviderScores } from './scores.ts'
import type {
  AttemptPayment,
  ProtocolAdapter,
  RecordSink,
  RetrievalPayments,
  RetrievalProgress,
  RetrieverCache,
  RetrieverEvents
} from './types.ts'

export type AttemptResult =
  | { ok: true; blocks: number; bytes: number }
  | { ok: false; cancelled: true }
  | { ok: false; cancelled: false; error: AttemptError }
  /** The provider is at its max-concurrent-retrievals: not tried, the next candidate goes first. */
  | { ok: false; cancelled: false; busy: true }

/** What every attempt of a retriever shares. */
export interface AttemptComponents {
  cache: RetrieverCache
  scores: ProviderScores
  /** Attempts at once per provider, limited by its `maxConcurrentRetrievals`. */
  providerSlots: KeyedLimiter
  records?: RecordSink
  events?: RetrieverEvents
  logger?: Logger
  /** The retriever's running totals of what providers delivered. */
  counters: { bytes: number; blocks: number }
}

export interface AttemptOptions {
  retrievalId: string
  root: CID
  candidate: Candidate
  adapter: ProtocolAdapter
  /** Aborted when the retrieval ends or another protocol delivered first: the attempt is cancelled. */
  signal: AbortSignal
  /** The retrieval's policy: the provider's limits (timeout, concurrency, rate) come from it. */
  snapshot: PolicySnapshot
  onProgress?(event: RetrievalProgress): void
  /** The links of each verified block (see BlockIntake). */
  onLinks?(links: CID[]): void
  /** The first verified block arrived. */
  onFirstBlock?(): void
  /**
   * A provider at its max-concurrent-retrievals: false (default) = return `busy` at once, as the
   * Go node skipped it for the next candidate; true = wait for its slot (no other candidate left).
   */
  waitForSlot?: boolean
  /** The candidate's query answer (Graphsync), when it gave one: the proposal's terms. */
  ask?: QueryResponse
  /** Paid retrievals: what a priced ask is paid with (under the provider's max-retrieval-cost). */
  payments?: RetrievalPayments
  /** Called once as the attempt ends, when it paid anything: attoFIL paid. */
  onCost?(cost: bigint): void
}

/**
 * One attempt against one provider over one protocol: waits for a slot under the provider's
 * concurrency limit, runs the adapter's stream through the intake, and fails it after
 * `retrievalTimeoutMs` without a verified block (an inactivity timeout, re-armed by each block and
 * by the connection), or after `firstByteTimeoutMs` without its first verified block (connect and
 * first byte: a provider that accepts and never answers fails fast, and the race starts the next
 * candidate). Both fail it `timeout`. Records the attempt as it starts and ends, and feeds the provider's score.
 * Never throws: a failure is an outcome with its AttemptError, a cancellation an outcome of its own,
 * and so is a provider found at its concurrency limit (`busy`, unless told to wait for it).
 */
export async function runAttempt(components: AttemptComponents, options: AttemptOptions): Promise<AttemptResult> {
  const { cache, scores, records, events, logger, counters } = components
  const { candidate, adapter, root, retrievalId } = options
  const ids = [candidate.peerId, ...(candidate.minerAddress ? [candidate.minerAddress] : [])]
  const limits = minerConfigFor(options.snapshot, ids)
  let release: () => void
  if (options.waitForSlot === true) {
    try {
      release = await components.providerSlots.acquire(candidate.peerId, limits.maxConcurrentRetrievals, options.signal)
    } catch {
      return { ok: false, cancelled: true }
    }
  } else {
    const slot = components.providerSlots.tryAcquire(candidate.peerId, limits.maxConcurrentRetrievals)
    if (slot === undefined) {
      logger?.debug({ provider: candidate.peerId, protocol: adapter.protocol }, 'provider busy: trying the next one')
      return { ok: false, cancelled: false, busy: true }
    }
    release = slot
  }
  const id = randomUUID()
  const startedAt = new Date()
  const timeout = new AbortController()
  const signal = AbortSignal.any([options.signal, timeout.signal])
  let connectedAt: Date | null = null
  let firstByteAt: Date | null = null
  /** What the attempt has paid so far (a priced deal): the lane's cumulative amount and its channel. */
  const paid: { cost?: bigint; channel?: string } = {}
  const { ask, payments } = options
  const payment: AttemptPayment | undefined =
    ask !== undefined && payments !== undefined && isPricedAsk(ask)
      ? {
          payments,
          maxRetrievalCost: paymentCapsFor(options.snapshot, candidate).maxRetrievalCost,
          onPaid: (cost, channel) => {
            paid.cost = cost
            paid.channel = channel
          }
        }
      : undefined
  let timer: NodeJS.Timeout | undefined
  const firstByteTimeoutMs = limits.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS
  let firstByteTimer: NodeJS.Timeout | undefined
  /** Waits on us rather than on the provider (a payment channel being set up): no timeout runs meanwhile. */
  let holds = 0
  /** Set as the attempt ends: a hold released after that arms nothing. */
  let ended = false
  const armFirstByte = () => {
    clearTimeout(firstByteTimer)
    if (firstByteTimeoutMs <= 0 || firstByteAt !== null || holds > 0 || ended) return
    firstByteTimer = setTimeout(
      () =>
        timeout.abort(
          new AttemptError(
            'timeout',
            `no first verified block from ${candidate.peerId} over ${adapter.protocol} within ${firstByteTimeoutMs} ms (first-byte-timeout; ${connectedAt === null ? 'not connected' : 'connected'})`
          )
        ),
      firstByteTimeoutMs
    )
  }
  armFirstByte()
  const arm = () => {
    clearTimeout(timer)
    if (limits.retrievalTimeoutMs > 0 && holds === 0 && !ended) {
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
  const hold = () => {
    holds++
    clearTimeout(timer)
    clearTimeout(firstByteTimer)
    let released = false
    return () => {
      if (released) return
      released = true
      if (--holds > 0) return
      // Both timeouts start over: the provider gets its full time again.
      arm()
      armFirstByte()
    }
  }
  const intake = new BlockIntake({
    root,
    ordered: adapter.ordered,
    provider: candidate.peerId,
    cache,
    signal,
    maxBytesPerSecond: limits.maxBytesPerSecond,
    startedAt: startedAt.getTime(),
    onLinks: options.onLinks,
    onBlock: (block) => {
      if (!block.local) {
        counters.bytes += block.bytes.byteLength
        counters.blocks++
        events?.onBytes?.(adapter.protocol, block.bytes.byteLength)
      }
      if (firstByteAt === null) {
        clearTimeout(firstByteTimer)
        firstByteAt = new Date()
        options.onFirstBlock?.()
      }
      arm()
      options.onProgress?.({ type: 'block', blocks: intake.blocks, bytes: intake.bytes })
    }
  })
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
      bytes: intake.bytes,
      blocks: intake.blocks,
      outcome,
      errorClass: error?.errorClass ?? null,
      errorMessage: error?.message ?? null,
      ...(paid.cost !== undefined ? { cost: String(paid.cost), paymentChannel: paid.channel ?? null } : {})
    })
  record('running')
  events?.onAttemptStarted?.(adapter.protocol)
  options.onProgress?.({ type: 'attempt-started', provider: candidate.peerId, protocol: adapter.protocol })
  arm()
  try {
    await intake.take(
      adapter.retrieve(candidate, root, {
        signal,
        getLocal: (cid) => cache.get(cid),
        onConnected: () => {
          connectedAt = new Date()
          arm()
        },
        hold,
        ...(ask !== undefined ? { ask } : {}),
        ...(payment !== undefined ? { payment } : {})
      })
    )
    record('success')
    const durationMs = Date.now() - startedAt.getTime()
    const ttfbMs = firstByteAt ? (firstByteAt as Date).getTime() - startedAt.getTime() : undefined
    scores.record(candidate.peerId, { ok: true, ttfbMs, bytes: intake.bytes, durationMs })
    events?.onAttemptEnded?.(adapter.protocol, 'success', { bytes: intake.bytes, durationMs, ttfbMs, cost: paid.cost })
    return { ok: true, blocks: intake.blocks, bytes: intake.bytes }
  } catch (err) {
    const durationMs = Date.now() - startedAt.getTime()
    if (options.signal.aborted && !timeout.signal.aborted) {
      record('cancelled')
      events?.onAttemptEnded?.(adapter.protocol, 'cancelled', { bytes: intake.bytes, durationMs, cost: paid.cost })
      return { ok: false, cancelled: true }
    }
    const error = classify(err, timeout.signal, candidate.peerId)
    record('failed', error)
    scores.record(candidate.peerId, { ok: false })
    events?.onAttemptEnded?.(adapter.protocol, 'failed', {
      bytes: intake.bytes,
      durationMs,
      errorClass: error.errorClass,
      cost: paid.cost
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
    ended = true
    clearTimeout(timer)
    clearTimeout(firstByteTimer)
    release()
    if (paid.cost !== undefined && paid.cost > 0n) options.onCost?.(paid.cost)
  }
}

/** The attempt's timeout wins over whatever the adapter threw when it was cut off; anything untyped is `other`. */
function classify(err: unknown, timeout: AbortSignal, provider: string): AttemptError {
  if (timeout.aborted && timeout.reason instanceof AttemptError) return timeout.reason
  if (err instanceof AttemptError) return err
  return new AttemptError('other', `${provider}: ${(err as Error).message}`, { cause: err })
}
