import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { performance } from 'node:perf_hooks'
import { cidKey, type ErrorClass, isErrorClass, multihashKey } from '@autoretrieve/interface'
import { isCidDenied, type PolicySnapshot } from '@autoretrieve/policy'
import type { CID } from 'multiformats/cid'
import { RequestBlocks } from './blocks.ts'
import { carHeader, sectionPrefix } from './car.ts'
import {
  CAR_TYPE,
  DEFAULT_MAX_PATH_SEGMENTS,
  DEFAULT_MAX_RETRIEVALS_PER_REQUEST,
  DEFAULT_MISS_TIMEOUT_MS,
  DEFAULT_READ_AHEAD,
  DEFAULT_SEND_TIMEOUT_MS,
  GATEWAY_PROTOCOL,
  IMMUTABLE_CACHE_CONTROL,
  RAW_TYPE
} from './constants.ts'
import { DeniedError, GatewayError } from './errors.ts'
import { type GatewayRequest, parseRequest } from './request.ts'
import type { GatewayComponents, GatewayFormat, GatewayInit, GatewayStats } from './types.ts'
import { type Block, resolvePath } from './unixfs.ts'
import { scopeBlocks } from './walk.ts'

export interface Gateway {
  /** The node:http request listener: `/ipfs/…` only, GET and HEAD (and CORS preflights). */
  handle(req: IncomingMessage, res: ServerResponse): void
  stats(): GatewayStats
}

/** What one request did, filled in as it goes and read once it ends (record, metrics, stats). */
interface Exchange {
  startedAt: Date
  started: number
  requestedBy: string
  format: GatewayFormat
  status: number
  cidText?: string
  terminal?: CID
  firstByteAt?: Date
  ttfbMs?: number
  bytes: number
  blocks: number
  error?: Error
  /** The body was cut after its 200 (a failure the status cannot show). */
  cut: boolean
  misses: number
}

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Expose-Headers':
    'Content-Type, Content-Length, Content-Disposition, Etag, X-Ipfs-Path, X-Ipfs-Roots, X-Content-Type-Options, Retry-After'
}

/**
 * The trustless gateway (shared/specs/trustless-gateway.md): raw blocks and CARv1 streams of
 * `/ipfs/{cid}[/{path}]`, from the block cache, and on a miss from the shared retrieval the
 * Bitswap server's wants start or join. The CAR streams in DFS order as the cache verifies
 * blocks; writes respect the socket's backpressure (one block in hand plus a bounded read-ahead),
 * so a slow client costs bounded memory. A client that goes aborts the request's signal, which
 * releases its share of the retrieval.
 */
export function createGateway(components: GatewayComponents, init: GatewayInit = {}): Gateway {
  const { cache, retriever, policy, records, events, logger } = components
  const maxPathSegments = init.maxPathSegments ?? DEFAULT_MAX_PATH_SEGMENTS
  const readAhead = init.readAhead ?? DEFAULT_READ_AHEAD
  const sendTimeoutMs = init.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS
  const counters: GatewayStats = { requests: 0, active: 0, bytesSent: 0, blocksSent: 0, hits: 0, misses: 0, errors: 0 }

  function finish(x: Exchange): void {
    counters.active--
    counters.requests++
    if (x.status >= 400 || x.cut) counters.errors++
    if (x.misses > 0) counters.misses++
    else if (x.status === 200) counters.hits++
    const durationMs = performance.now() - x.started
    events?.onRequest?.({
      format: x.format,
      status: x.status,
      ttfbMs: x.ttfbMs ?? durationMs,
      bytes: x.bytes,
      durationMs
    })
    if (records === undefined || x.cidText === undefined) return
    const at = new Date()
    const id = randomUUID()
    const ok = x.error === undefined && x.status < 400
    const cancelled = x.error?.name === 'AbortError' || (x.error as { code?: string })?.code === 'ERR_CLIENT_GONE'
    const errorClass = ok || cancelled ? null : errorClassOf(x.error)
    const errorMessage = ok ? null : `HTTP ${x.status}: ${x.error?.message ?? 'failed'}`
    const policyVersion = policy.current().version
    records.record({
      type: 'retrieval-started',
      id,
      rootCid: x.cidText,
      requestedCid: x.terminal?.toString() ?? x.cidText,
      requestedBy: [x.requestedBy],
      policyVersion,
      at: x.startedAt
    })
    records.record({
      type: 'attempt',
      id: randomUUID(),
      retrievalId: id,
      provider: x.requestedBy,
      protocol: GATEWAY_PROTOCOL,
      startedAt: x.startedAt,
      connectedAt: x.startedAt,
      firstByteAt: x.firstByteAt ?? null,
      endedAt: at,
      bytes: x.bytes,
      blocks: x.blocks,
      outcome: ok ? 'success' : cancelled ? 'cancelled' : 'failed',
      errorClass,
      errorMessage
    })
    records.record({
      type: 'retrieval-finished',
      id,
      status: ok ? 'success' : 'failed',
      reason: errorClass,
      bytes: x.bytes,
      blocks: x.blocks,
      at
    })
  }

  function refuse(x: Exchange, cid: CID, reason: string, snapshot: PolicySnapshot): void {
    records?.record({
      type: 'refusal',
      cid: cid.toString(),
      peer: x.requestedBy,
      reason,
      policyVersion: snapshot.version,
      at: new Date()
    })
  }

  /** A DeniedError for the first of `cids` the policy denies, if any. */
  function denied(cids: CID[], snapshot: PolicySnapshot): DeniedError | undefined {
    for (const cid of cids) {
      if (!isCidDenied(snapshot, cid)) continue
      const why = snapshot.deniedCids.get(cidKey(cid))?.reason
      return new DeniedError(410, 'blacklisted_cid', `blacklisted_cid: ${cid} is denied${why ? ` (${why})` : ''}`)
    }
    return undefined
  }

  async function serve(req: IncomingMessage, res: ServerResponse, x: Exchange, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway')
    if (!url.pathname.startsWith('/ipfs/'))
      throw new GatewayError(404, 'ERR_NOT_FOUND', `no route for ${url.pathname}: this gateway serves /ipfs/{cid} only`)
    // Recorded even when the request is refused for its CID or parameters.
    x.cidText = url.pathname.slice('/ipfs/'.length).split('/')[0]
    const request = parseRequest(
      url,
      { accept: req.headers.accept, cacheControl: req.headers['cache-control'] },
      { maxPathSegments }
    )
    x.cidText = request.cid.toString()
    x.format = request.format
    const snapshot = policy.current()
    const refusal = denied([request.cid], snapshot)
    if (refusal) {
      refuse(x, request.cid, 'blacklisted_cid', snapshot)
      throw refusal
    }
    const etag = etagOf(request)
    const headers: Record<string, string> = {
      Etag: etag,
      'Cache-Control': IMMUTABLE_CACHE_CONTROL,
      Vary: 'Accept, Accept-Encoding',
      'X-Ipfs-Path': url.pathname,
      'X-Content-Type-Options': 'nosniff'
    }
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      x.status = 304
      res.writeHead(304, headers)
      res.end()
      return
    }
    const blocks = new RequestBlocks({
      cache,
      retriever,
      requestedBy: x.requestedBy,
      signal,
      onlyIfCached: request.onlyIfCached,
      maxRetrievals: init.maxRetrievalsPerRequest ?? DEFAULT_MAX_RETRIEVALS_PER_REQUEST,
      missTimeoutMs: init.missTimeoutMs ?? DEFAULT_MISS_TIMEOUT_MS
    })
    try {
      if (request.format === 'raw') await serveRaw(req, res, x, request, blocks, headers)
      else await serveCar(req, res, x, request, blocks, headers, url, signal)
    } finally {
      x.misses = blocks.misses
    }
  }

  async function serveRaw(
    req: IncomingMessage,
    res: ServerResponse,
    x: Exchange,
    request: GatewayRequest,
    blocks: RequestBlocks,
    headers: Record<string, string>
  ): Promise<void> {
    const bytes = await blocks.get(request.cid)
    x.terminal = request.cid
    Object.assign(headers, {
      'Content-Type': RAW_TYPE,
      'Content-Length': String(bytes.byteLength),
      'Content-Disposition': `attachment; filename="${request.filename ?? `${request.cid}.bin`}"`,
      'X-Ipfs-Roots': request.cid.toString(),
      'Accept-Ranges': 'none'
    })
    if (request.formatFromAccept) headers['Content-Location'] = contentLocation(req, 'raw')
    x.status = 200
    res.writeHead(200, headers)
    markFirstByte(x)
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    res.end(bytes)
    x.bytes = bytes.byteLength
    x.blocks = 1
    counters.bytesSent += bytes.byteLength
    counters.blocksSent++
  }

  async function serveCar(
    req: IncomingMessage,
    res: ServerResponse,
    x: Exchange,
    request: GatewayRequest,
    blocks: RequestBlocks,
    headers: Record<string, string>,
    url: URL,
    signal: AbortSignal
  ): Promise<void> {
    // Everything that can still change the status happens before the 200: the root and the path
    // (404), the terminal's deny check (410), the terminal block and its byte range (400).
    const root: Block = { cid: request.cid, bytes: await blocks.get(request.cid) }
    const { pathBlocks, terminal, roots } = await resolvePath(root, request.path, (cid) => blocks.get(cid))
    x.terminal = terminal.cid
    const snapshot = policy.current()
    const refusal = denied(roots, snapshot)
    if (refusal) {
      refuse(x, terminal.cid, 'blacklisted_cid', snapshot)
      throw refusal
    }
    const seen = request.dups ? undefined : new Set(pathBlocks.map((b) => multihashKey(b.cid)))
    const walk = scopeBlocks(
      { terminal, scope: request.scope, entityBytes: request.entityBytes, dups: request.dups, seen, readAhead },
      blocks,
      signal
    )
    try {
      const first = await walk.next()
      Object.assign(headers, {
        'Content-Type': `${CAR_TYPE};version=1;order=dfs;dups=${request.dups ? 'y' : 'n'}`,
        'Content-Disposition': `attachment; filename="${request.filename ?? `${request.cid}.car`}"`,
        'X-Ipfs-Roots': roots.map(String).join(','),
        'Accept-Ranges': 'none'
      })
      if (request.formatFromAccept) headers['Content-Location'] = contentLocation(req, 'car')
      x.status = 200
      res.writeHead(200, headers)
      if (req.method === 'HEAD') {
        markFirstByte(x)
        res.end()
        return
      }
      // A deny issued from now on cuts the stream.
      const header = carHeader(request.cid)
      res.write(header)
      markFirstByte(x)
      x.bytes += header.byteLength
      counters.bytesSent += header.byteLength
      const send = async (block: Block) => {
        const cut = denied([block.cid, ...roots], policy.current())
        if (cut) throw cut
        const prefix = sectionPrefix(block.cid, block.bytes.byteLength)
        // Two writes, not one copied buffer, and no cork: node:http does not emit 'drain' for a
        // write that filled the buffer while corked, and the stream would wait for ever.
        res.write(prefix)
        const more = res.write(block.bytes)
        const n = prefix.byteLength + block.bytes.byteLength
        x.bytes += n
        x.blocks++
        counters.bytesSent += n
        counters.blocksSent++
        if (!more) await drained(res, signal, sendTimeoutMs)
      }
      for (const b of pathBlocks) await send(b)
      if (!first.done) await send(first.value)
      for await (const b of walk) await send(b)
      res.end()
      logger?.debug({ cid: x.cidText, path: url.pathname, blocks: x.blocks, bytes: x.bytes }, 'gateway CAR sent')
    } finally {
      await walk.return(undefined)
    }
  }

  function markFirstByte(x: Exchange): void {
    x.firstByteAt = new Date()
    x.ttfbMs = performance.now() - x.started
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    counters.active++
    const x: Exchange = {
      startedAt: new Date(),
      started: performance.now(),
      requestedBy: `${GATEWAY_PROTOCOL}:${clientKeyOf(req)}`,
      format: 'none',
      status: 0,
      bytes: 0,
      blocks: 0,
      cut: false,
      misses: 0
    }
    const controller = new AbortController()
    let unsubscribe = () => {}
    res.once('close', () => {
      if (!res.writableFinished) {
        const gone = new GatewayError(499, 'ERR_CLIENT_GONE', 'the client closed the connection')
        x.error ??= gone
        if (x.status === 200) x.cut = true
        controller.abort(gone)
      }
      unsubscribe()
      finish(x)
    })
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v)
    if (req.method === 'OPTIONS') {
      x.status = 204
      res.writeHead(204, { 'Access-Control-Max-Age': '86400' }).end()
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      x.status = 405
      res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS', 'Content-Type': 'text/plain; charset=utf-8' })
      res.end(`${req.method} is not allowed: this gateway is read-only (GET, HEAD)\n`)
      return
    }
    // A deny issued while the request waits or streams ends it (the per-block check catches the
    // rest; this one catches a request waiting on a retrieval).
    unsubscribe = policy.subscribe((next) => {
      const cids = [x.cidText, x.terminal?.toString()].filter((c) => c !== undefined)
      for (const c of cids) {
        if (next.deniedCids.has(cidKey(c))) {
          controller.abort(
            new DeniedError(410, 'blacklisted_cid', `blacklisted_cid: ${c} was denied while being served`)
          )
          return
        }
      }
    })
    serve(req, res, x, controller.signal).catch((err: Error) => {
      const error =
        controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : err
      x.error = error
      if (res.headersSent) {
        // The 200 is out: the only way left to say "failed" is to cut the stream, so the client
        // sees a broken chunked body rather than a CAR that merely looks short.
        x.cut = true
        logger?.info({ cid: x.cidText, err: error.message }, 'gateway stream cut')
        res.destroy()
        return
      }
      const status = error instanceof GatewayError ? error.status : 500
      if (status === 499) {
        res.destroy()
        return
      }
      x.status = status
      if (status >= 500) logger?.warn({ cid: x.cidText, err: error }, 'gateway request failed')
      const code = error instanceof GatewayError ? error.code : 'ERR_INTERNAL'
      const message = status === 500 ? 'internal error' : error.message
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-store',
        ...(error instanceof GatewayError ? error.headers : {})
      })
      res.end(req.method === 'HEAD' ? undefined : `${code}: ${message}\n`)
    })
  }

  return { handle, stats: () => ({ ...counters }) }
}

function clientKeyOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown'
}

function errorClassOf(err: Error | undefined): ErrorClass {
  const code = (err as { code?: string } | undefined)?.code
  if (isErrorClass(code)) return code
  if (code === 'ERR_INCOMPLETE') return 'incomplete'
  if (code === 'ERR_TIMEOUT') return 'timeout'
  if (code === 'ERR_BAD_BLOCK') return 'bad_block'
  return 'other'
}

/**
 * The answer's Etag. Raw: the CID (the bytes are the CID's). CAR: weak (as frisbii's), naming
 * the CID and a digest of what shapes the stream (path, scope, range, dups).
 */
function etagOf(r: GatewayRequest): string {
  if (r.format === 'raw') return `"${r.cid}.raw"`
  const range = r.entityBytes ? `${r.entityBytes.from}:${r.entityBytes.to}` : ''
  const shape = `${r.path.join('/')}|${r.scope}|${range}|dfs|${r.dups ? 'y' : 'n'}`
  return `W/"${r.cid}.car.${createHash('sha256').update(shape).digest('base64url').slice(0, 16)}"`
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag.replace(/^W\//, '') === bare
  })
}

function contentLocation(req: IncomingMessage, format: 'raw' | 'car'): string {
  const url = new URL(req.url ?? '/', 'http://gateway')
  url.searchParams.set('format', format)
  return `${url.pathname}${url.search}`
}

/** Waits until the socket takes more, the request ends, or the client has read nothing for `timeoutMs`. */
function drained(res: ServerResponse, signal: AbortSignal, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer)
      res.off('drain', done)
      signal.removeEventListener('abort', onAbort)
    }
    const done = () => {
      cleanup()
      resolve()
    }
    const onAbort = () => {
      cleanup()
      reject(signal.reason)
    }
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      cleanup()
      reject(new GatewayError(504, 'ERR_SLOW_CLIENT', `the client read nothing for ${timeoutMs} ms`))
    }, timeoutMs)
    res.once('drain', done)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
