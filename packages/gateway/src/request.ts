import { CID } from 'multiformats/cid'
import { CAR_TYPE, RAW_TYPE } from './constants.ts'
import { GatewayError } from './errors.ts'

export type Format = 'raw' | 'car'
export type DagScope = 'all' | 'entity' | 'block'

/** `entity-bytes=from:to`, inclusive; a negative value counts from the end, `to: '*'` is the end. */
export interface ByteRange {
  from: number
  to: number | '*'
}

/** A trustless request, validated: what the handler acts on. */
export interface GatewayRequest {
  cid: CID
  /** Path segments after the CID, URL-decoded, empty ones dropped. */
  path: string[]
  format: Format
  /** The format came from Accept only (so the answer names its canonical URL in Content-Location). */
  formatFromAccept: boolean
  scope: DagScope
  entityBytes?: ByteRange
  /** dups=y: a block is repeated each time the DFS walk meets it. */
  dups: boolean
  filename?: string
  /** `Cache-Control: only-if-cached`: 412 rather than a retrieval when the root is not here. */
  onlyIfCached: boolean
}

const bad = (message: string) => new GatewayError(400, 'ERR_BAD_REQUEST', message)

/**
 * Reads `/ipfs/{cid}[/{path}]` and its query and headers into a request, or throws a
 * GatewayError: 400 for a bad CID, path or parameter (saying which), 406 for an Accept that
 * names nothing this gateway sends. Pure: no I/O.
 */
export function parseRequest(
  url: URL,
  headers: { accept?: string; cacheControl?: string },
  options: { maxPathSegments: number }
): GatewayRequest {
  const rest = url.pathname.slice('/ipfs/'.length)
  const [cidText, ...rawSegments] = rest.split('/')
  let cid: CID
  try {
    cid = CID.parse(cidText)
  } catch (err) {
    throw bad(`"${cidText}" is not a CID: ${(err as Error).message}`)
  }
  const path: string[] = []
  for (const s of rawSegments) {
    if (s === '') continue
    try {
      path.push(decodeURIComponent(s))
    } catch {
      throw bad(`path segment "${s}" is not valid percent-encoding`)
    }
  }
  if (path.length > options.maxPathSegments)
    throw bad(`path has ${path.length} segments; at most ${options.maxPathSegments}`)

  const q = url.searchParams
  const accepted = negotiate(headers.accept)
  const formatParam = q.get('format')
  let format: Format
  if (formatParam !== null) {
    if (formatParam !== 'raw' && formatParam !== 'car') throw bad(`format=${formatParam}: must be raw or car`)
    format = formatParam
  } else if (accepted.kind === 'none') {
    throw bad(`no format: send Accept: ${RAW_TYPE} or ${CAR_TYPE}, or ?format=raw|car`)
  } else if (accepted.kind === 'unacceptable') {
    throw new GatewayError(
      406,
      'ERR_NOT_ACCEPTABLE',
      `Accept "${headers.accept}" names no type this gateway sends (${RAW_TYPE}, ${CAR_TYPE})`
    )
  } else format = accepted.format

  const carParams =
    accepted.kind === 'format' && accepted.format === 'car' ? accepted.params : new Map<string, string>()
  const version = q.get('car-version') ?? carParams.get('version')
  if (format === 'car' && version !== undefined && version !== '1')
    throw bad(`CAR version ${version}: only 1 is served`)
  const dupsText = q.get('car-dups') ?? carParams.get('dups') ?? 'y'
  if (format === 'car' && dupsText !== 'y' && dupsText !== 'n') throw bad(`dups=${dupsText}: must be y or n`)
  const order = q.get('car-order')
  if (order !== null && order !== 'dfs' && order !== 'unk') throw bad(`car-order=${order}: must be dfs or unk`)

  const scopeText = q.get('dag-scope') ?? 'all'
  if (scopeText !== 'all' && scopeText !== 'entity' && scopeText !== 'block')
    throw bad(`dag-scope=${scopeText}: must be all, entity or block`)
  let scope: DagScope = scopeText
  const bytesText = q.get('entity-bytes')
  let entityBytes: ByteRange | undefined
  if (bytesText !== null) {
    entityBytes = parseByteRange(bytesText)
    // 0:* is the whole entity: the default, not a range.
    if (entityBytes.from === 0 && entityBytes.to === '*') entityBytes = undefined
    if (scope === 'block') throw bad('entity-bytes needs dag-scope=entity (or none), not block')
    scope = 'entity'
  }

  if (format === 'raw') {
    if (path.length > 0) throw bad('a raw block has no path: ask for /ipfs/{cid} only')
    if (q.has('dag-scope') || bytesText !== null) throw bad('dag-scope and entity-bytes apply to CAR responses only')
  }

  const filename = q.get('filename') ?? undefined
  if (filename !== undefined) {
    const ext = format === 'car' ? '.car' : '.bin'
    if (!filename.endsWith(ext)) throw bad(`filename=${filename}: must end with ${ext} for a ${format} response`)
    // It goes into a quoted header value.
    if (/["\\\r\n]/.test(filename) || filename.length > 255) throw bad(`filename=${filename}: not a plain file name`)
  }
  const onlyIfCached = (headers.cacheControl ?? '').split(',').some((d) => d.trim().toLowerCase() === 'only-if-cached')
  return {
    cid,
    path,
    format,
    formatFromAccept: formatParam === null,
    scope,
    entityBytes,
    dups: dupsText === 'y',
    filename,
    onlyIfCached
  }
}

function parseByteRange(text: string): ByteRange {
  const m = /^(-?\d{1,16}):(-?\d{1,16}|\*)$/.exec(text)
  if (m === null) throw bad(`entity-bytes=${text}: must be from:to (integers, to may be *)`)
  const from = Number(m[1])
  const to = m[2] === '*' ? '*' : Number(m[2])
  if (typeof to === 'number' && from >= 0 && to >= 0 && to < from) throw bad(`entity-bytes=${text}: to is before from`)
  return { from, to }
}

type Negotiated =
  | { kind: 'none' }
  | { kind: 'unacceptable' }
  | { kind: 'format'; format: Format; params: Map<string, string> }

/**
 * The best of the Accept header's types this gateway sends, by q value (first listed wins a
 * tie). `application/*` and `*\/*` mean a CAR, as go-trustless-utils reads them.
 */
function negotiate(accept: string | undefined): Negotiated {
  if (accept === undefined || accept.trim() === '') return { kind: 'none' }
  let best: { format: Format; params: Map<string, string>; q: number } | undefined
  for (const item of accept.split(',')) {
    const [typeText, ...paramTexts] = item.split(';')
    const type = typeText.trim().toLowerCase()
    const params = new Map<string, string>()
    for (const p of paramTexts) {
      const eq = p.indexOf('=')
      if (eq < 0) continue
      params.set(
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, '')
      )
    }
    const qv = params.has('q') ? Number(params.get('q')) : 1
    if (!(qv > 0)) continue
    const format: Format | undefined =
      type === RAW_TYPE ? 'raw' : type === CAR_TYPE || type === 'application/*' || type === '*/*' ? 'car' : undefined
    if (format === undefined) continue
    if (best === undefined || qv > best.q) best = { format, params, q: qv }
  }
  return best === undefined ? { kind: 'unacceptable' } : { kind: 'format', format: best.format, params: best.params }
}
