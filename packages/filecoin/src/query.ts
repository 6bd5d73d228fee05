// The retrieval query protocol (`/fil/retrieval/qry/1.0.0`, data-transfer.md §7): the client writes
// one DAG-CBOR Query map, the provider writes one QueryResponse map back and closes. No length
// prefix, so where the answer ends is found by walking its CBOR headers (cbor-extent.ts), and the
// answer is refused past MAX_QUERY_RESPONSE_BYTES as soon as a header declares more.
import { decodeDagCbor, encodeDagCbor } from '@autoretrieve/graphsync'
import { type AbortOptions, DEFAULT_QUERY_TIMEOUT_MS, MAX_QUERY_RESPONSE_BYTES } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import { decodeBigIntBytes, encodeBigIntBytes } from './big-int.ts'
import { cborExtent, newExtentState } from './cbor-extent.ts'
import { MalformedTransferMessageError, QueryFailedError, TransferMessageTooLargeError } from './errors.ts'
import { intNode, malformed, readBytes, readNullableLink, readString, readUint, readUint64 } from './node.ts'
import type { ByteListLike } from './stream.ts'

export const RETRIEVAL_QUERY_PROTOCOL = '/fil/retrieval/qry/1.0.0'

/** QueryResponse `Status`. */
export const QueryResponseStatus = Object.freeze({ Available: 0, Unavailable: 1, Error: 2 } as const)
/** QueryResponse `PieceCIDFound`. */
export const QueryItemStatus = Object.freeze({ Available: 0, Unavailable: 1, Unknown: 2 } as const)

export interface RetrievalQuery {
  payloadCid: CID
  /** `QueryParams.PieceCID`: null for any piece (what Lassie sent). */
  pieceCid?: CID | null
}

export interface QueryResponse {
  /** A {@link QueryResponseStatus}. */
  status: number
  /** A {@link QueryItemStatus}. */
  pieceCidFound: number
  /** Unpadded piece size in bytes. */
  size: bigint
  /** The provider's payment address, as Filecoin address bytes. */
  paymentAddress: Uint8Array
  /** attoFIL per byte. */
  minPricePerByte: bigint
  maxPaymentInterval: bigint
  maxPaymentIntervalIncrease: bigint
  message: string
  /** attoFIL to unseal the piece (0: an unsealed copy). */
  unsealPrice: bigint
}

/** The Query's DAG-CBOR bytes: `{PayloadCID, QueryParams: {PieceCID}}` (encodeDagCbor sorts the keys). */
export function encodeRetrievalQuery(query: RetrievalQuery): Uint8Array {
  return encodeDagCbor({ PayloadCID: query.payloadCid, QueryParams: { PieceCID: query.pieceCid ?? null } })
}

/** Reads a Query (the provider's side; the stand-in uses it). Throws MalformedTransferMessageError. */
export function decodeRetrievalQuery(bytes: Uint8Array): Required<RetrievalQuery> {
  const map = readMap('Query', decodeNode('Query', bytes))
  const params = readMap('Query.QueryParams', map.QueryParams ?? {})
  const payloadCid = readNullableLink('Query.PayloadCID', map.PayloadCID)
  if (payloadCid === null) throw malformed('Query.PayloadCID', 'a link', null)
  return { payloadCid, pieceCid: readNullableLink('Query.QueryParams.PieceCID', params.PieceCID ?? null) }
}

/** The QueryResponse's DAG-CBOR bytes (the provider's side). */
export function encodeQueryResponse(response: QueryResponse): Uint8Array {
  return encodeDagCbor({
    Status: response.status,
    PieceCIDFound: response.pieceCidFound,
    Size: intNode(response.size, 'QueryResponse.Size'),
    PaymentAddress: response.paymentAddress,
    MinPricePerByte: encodeBigIntBytes(response.minPricePerByte),
    MaxPaymentInterval: intNode(response.maxPaymentInterval, 'QueryResponse.MaxPaymentInterval'),
    MaxPaymentIntervalIncrease: intNode(
      response.maxPaymentIntervalIncrease,
      'QueryResponse.MaxPaymentIntervalIncrease'
    ),
    Message: response.message,
    UnsealPrice: encodeBigIntBytes(response.unsealPrice)
  })
}

/**
 * Reads a QueryResponse. `Status` is required; a missing field reads as its zero value and an
 * unknown key is ignored (what Go's cbor-gen map decoder does). Throws MalformedTransferMessageError
 * naming the field.
 */
export function decodeQueryResponse(bytes: Uint8Array): QueryResponse {
  const map = readMap('QueryResponse', decodeNode('QueryResponse', bytes))
  if (!Object.hasOwn(map, 'Status')) throw new MalformedTransferMessageError('QueryResponse: missing key "Status"')
  const amount = (key: string) => {
    const where = `QueryResponse.${key}`
    try {
      return decodeBigIntBytes(readBytes(where, map[key] ?? new Uint8Array(0)))
    } catch (cause) {
      if (cause instanceof MalformedTransferMessageError) throw cause
      throw new MalformedTransferMessageError(`${where}: ${(cause as Error).message}`, { cause })
    }
  }
  return {
    status: readUint('QueryResponse.Status', map.Status),
    pieceCidFound: readUint('QueryResponse.PieceCIDFound', map.PieceCIDFound ?? 0),
    size: readUint64('QueryResponse.Size', map.Size ?? 0),
    paymentAddress: Uint8Array.from(readBytes('QueryResponse.PaymentAddress', map.PaymentAddress ?? new Uint8Array(0))),
    minPricePerByte: amount('MinPricePerByte'),
    maxPaymentInterval: readUint64('QueryResponse.MaxPaymentInterval', map.MaxPaymentInterval ?? 0),
    maxPaymentIntervalIncrease: readUint64(
      'QueryResponse.MaxPaymentIntervalIncrease',
      map.MaxPaymentIntervalIncrease ?? 0
    ),
    message: readString('QueryResponse.Message', map.Message ?? ''),
    unsealPrice: amount('UnsealPrice')
  }
}

/** Total cost of retrieving the piece at this ask: MinPricePerByte × Size + UnsealPrice (how Lassie ranked). */
export function queryTotalCost(response: Pick<QueryResponse, 'minPricePerByte' | 'size' | 'unsealPrice'>): bigint {
  return response.minPricePerByte * response.size + response.unsealPrice
}

/** The ask costs something: a per-byte price or an unseal price above zero. */
export function isPricedAsk(response: Pick<QueryResponse, 'minPricePerByte' | 'unsealPrice'>): boolean {
  return response.minPricePerByte > 0n || response.unsealPrice > 0n
}

function decodeNode(part: string, bytes: Uint8Array): unknown {
  try {
    return decodeDagCbor(bytes)
  } catch (cause) {
    throw new MalformedTransferMessageError(`${part}: not DAG-CBOR: ${(cause as Error).message}`, { cause })
  }
}

function readMap(part: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    throw malformed(part, 'a map', value)
  if (CID.asCID(value) !== null) throw malformed(part, 'a map', value)
  return value as Record<string, unknown>
}

/** A libp2p stream as the query uses it: send, read, close or abort. */
export interface QueryStream extends AsyncIterable<Uint8Array | ByteListLike> {
  send(data: Uint8Array): boolean
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
}

export interface QueryProviderOptions extends AbortOptions {
  /** Dial to answer. @default DEFAULT_QUERY_TIMEOUT_MS (5 s) */
  timeoutMs?: number
  /** @default MAX_QUERY_RESPONSE_BYTES (64 KiB) */
  maxResponseBytes?: number
}

/**
 * Asks a provider for its terms for `payloadCid`: opens a `/fil/retrieval/qry/1.0.0` stream with
 * `dialProtocol`, writes the Query and reads one QueryResponse, bounded in size and time. Throws
 * QueryFailedError for everything but an abort of `options.signal` (thrown as its reason).
 */
export async function queryProvider(
  dialProtocol: (protocol: string, options: AbortOptions) => Promise<QueryStream>,
  payloadCid: CID,
  options: QueryProviderOptions = {}
): Promise<QueryResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS
  const max = options.maxResponseBytes ?? MAX_QUERY_RESPONSE_BYTES
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  const timedOut = () => new QueryFailedError(`query timed out after ${timeoutMs} ms`)
  let stream: QueryStream
  try {
    stream = await dialProtocol(RETRIEVAL_QUERY_PROTOCOL, { signal })
  } catch (cause) {
    options.signal?.throwIfAborted()
    if (timeout.aborted) throw timedOut()
    const err = cause as Error & { name?: string }
    if (err.name === 'UnsupportedProtocolError')
      throw new QueryFailedError(`failed to open stream to peer: ${err.message}`, { cause, unsupported: true })
    // libp2p names a failed connection (DialError, ConnectionFailedError…); anything else is the stream.
    const stage = /dial|connect|refused|transport/i.test(`${err.name} ${err.message}`)
      ? 'failed to dial'
      : 'failed to open stream to peer'
    throw new QueryFailedError(`${stage}: ${err.message}`, { cause })
  }
  const onAbort = () => stream.abort(new Error('query aborted'))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    stream.send(encodeRetrievalQuery({ payloadCid }))
    const buffer: Uint8Array[] = []
    let length = 0
    const state = newExtentState()
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      buffer.push(bytes)
      length += bytes.length
      const joined = buffer.length === 1 ? bytes : concat(buffer, length)
      buffer.length = 0
      buffer.push(joined)
      let end: number | undefined
      try {
        end = cborExtent(joined, state, max)
      } catch (cause) {
        if (cause instanceof TransferMessageTooLargeError)
          throw new QueryFailedError(`query response larger than ${max} bytes: ${cause.message}`, { cause })
        throw cause
      }
      if (end === undefined && length >= max)
        throw new QueryFailedError(`query response larger than ${max} bytes (${length} read, not yet whole)`)
      if (end !== undefined) {
        const response = decodeQueryResponse(joined.slice(0, end))
        stream.close().catch(() => {})
        return response
      }
    }
    throw new QueryFailedError(
      length === 0 ? 'failed to read response: EOF' : `failed to read response: EOF after ${length} bytes`
    )
  } catch (cause) {
    stream.abort(cause as Error)
    options.signal?.throwIfAborted()
    if (timeout.aborted) throw timedOut()
    if (cause instanceof QueryFailedError) throw cause
    if (cause instanceof MalformedTransferMessageError)
      throw new QueryFailedError(`bad query response: ${cause.message}`, { cause })
    const err = cause as Error
    const reset = /reset|abort/i.test(`${err.name} ${err.message}`)
    throw new QueryFailedError(`failed to read response: ${reset ? 'stream reset' : err.message}`, { cause })
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
