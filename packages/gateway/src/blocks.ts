import type { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { BlockUnavailableError, GatewayError, RateLimitedError } from './errors.ts'

/** The block cache as the gateway reads it (the blockcache package's `BlockCache` fits). */
export interface GatewayCache {
  get(cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array | undefined>
  /** Resolves when the block lands (a retrieval verified it), rejects on timeout or abort. */
  await(cid: CID, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<Uint8Array>
}

/** What a retrieval told its waiter (the retriever's `RetrievalResult` fits). */
export type MissResult = { ok: true } | { ok: false; reason: string; error?: Error }

/** The shared retrieval engine: the one the Bitswap server's misses start or join (the retriever's `Retriever` fits). */
export interface GatewayRetriever {
  retrieve(cid: CID, options: { signal?: AbortSignal; requestedBy?: string }): Promise<MissResult>
}

export interface RequestBlocksInit {
  cache: GatewayCache
  retriever?: GatewayRetriever
  requestedBy: string
  signal: AbortSignal
  onlyIfCached: boolean
  maxRetrievals: number
  missTimeoutMs: number
}

/**
 * The blocks of one request: from the cache, and on a miss from the retrieval that covers the
 * block (started or joined through the retriever, so a Bitswap want and this request share it).
 * The request holds at most one share of a retrieval at a time; its signal (aborted when the
 * client goes) releases it. A block is handed out only once the cache verified it.
 */
export class RequestBlocks {
  /** Blocks answered from the cache, and from a retrieval. */
  hits = 0
  misses = 0
  retrievals = 0
  private current: Promise<MissResult> | undefined
  private readonly init: RequestBlocksInit

  constructor(init: RequestBlocksInit) {
    this.init = init
  }

  /** The block's bytes, from the cache without waiting (undefined: not there). Identity CIDs carry their bytes. */
  async local(cid: CID): Promise<Uint8Array | undefined> {
    if (cid.multihash.code === identity.code) return cid.multihash.digest
    return this.init.cache.get(cid, { signal: this.init.signal })
  }

  /** The block's bytes, fetched through a retrieval when the cache lacks them. */
  async get(cid: CID, prefetched?: Uint8Array): Promise<Uint8Array> {
    const bytes = prefetched ?? (await this.local(cid))
    if (bytes !== undefined) {
      this.hits++
      return bytes
    }
    this.misses++
    return this.miss(cid)
  }

  private async miss(cid: CID): Promise<Uint8Array> {
    const { cache, retriever, signal } = this.init
    if (this.init.onlyIfCached) throw new GatewayError(412, 'ERR_NOT_CACHED', `${cid} is not cached (only-if-cached)`)
    if (retriever === undefined)
      throw new BlockUnavailableError(404, 'ERR_NOT_FOUND', `${cid} is not cached and this node does not retrieve`)
    for (;;) {
      signal.throwIfAborted()
      if (this.current === undefined) {
        if (this.retrievals >= this.init.maxRetrievals)
          throw new BlockUnavailableError(
            502,
            'ERR_INCOMPLETE',
            `${cid} is still missing after ${this.retrievals} retrievals ended`
          )
        this.retrievals++
        // A rejection (the client went) is a result here: nothing may be left unhandled.
        this.current = retriever
          .retrieve(cid, { signal, requestedBy: this.init.requestedBy })
          .catch((error: Error) => ({ ok: false, reason: 'aborted', error }))
      }
      const current = this.current
      const stop = new AbortController()
      const arrival = cache.await(cid, {
        signal: AbortSignal.any([signal, stop.signal]),
        timeoutMs: this.init.missTimeoutMs
      })
      arrival.catch(() => {})
      let outcome: { bytes: Uint8Array } | { result: MissResult }
      try {
        outcome = await Promise.race([arrival.then((bytes) => ({ bytes })), current.then((result) => ({ result }))])
      } catch (err) {
        signal.throwIfAborted()
        throw new BlockUnavailableError(504, 'ERR_TIMEOUT', `no block ${cid} within ${this.init.missTimeoutMs} ms`, {
          cause: err
        })
      } finally {
        stop.abort()
      }
      if ('bytes' in outcome) return outcome.bytes
      // The retrieval ended: the block may have landed just before.
      this.current = undefined
      const late = await this.local(cid)
      if (late !== undefined) return late
      signal.throwIfAborted()
      const result = outcome.result
      if (!result.ok) throw failure(cid, result)
      // It succeeded without this block (a DAG that does not hold it): start one rooted at it.
    }
  }
}

/**
 * A failed retrieval as an answer. 404: no provider we may ask has it (the indexer named none,
 * or policy excluded every one named). 502: providers were named and every attempt failed.
 * 504: the attempts timed out.
 */
function failure(cid: CID, result: { reason: string; error?: Error }): BlockUnavailableError {
  const why = result.error?.message ?? result.reason
  switch (result.reason) {
    case 'no_candidates':
    case 'all_filtered':
      return new BlockUnavailableError(404, result.reason, `${cid} is not cached and no provider can be asked: ${why}`)
    case 'timeout':
      return new BlockUnavailableError(504, result.reason, `retrieving ${cid} timed out: ${why}`)
    // Admission control (the retriever's, keyed by requestedBy = http-gateway:<client IP>, the
    // same buckets Bitswap peers have): this client started too many new retrievals, or the node
    // has as many running and queued as it takes. Both pass: ask again shortly.
    case 'rate_limited':
      return new RateLimitedError(429, result.reason, `rate_limited: ${why}`, { headers: { 'Retry-After': '1' } })
    case 'overloaded':
      return new BlockUnavailableError(503, result.reason, `overloaded: ${why}`, { headers: { 'Retry-After': '1' } })
    default:
      return new BlockUnavailableError(502, result.reason, `retrieving ${cid} failed: ${why}`)
  }
}
