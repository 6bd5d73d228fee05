import { parseDuration } from '@autoretrieve/config'
import type { AbortOptions } from '@autoretrieve/interface'
import { DEFAULT_ESTUARY_TIMEOUT_MS, HEARTBEAT_PATH, MAX_ESTUARY_ANSWER_BYTES, REGISTER_PATH } from './constants.ts'
import { EstuaryAnswerError, EstuaryStatusError, EstuaryUnreachableError } from './errors.ts'

export interface RequestOptions extends AbortOptions {
  /** Bound on the request, headers and body; default DEFAULT_ESTUARY_TIMEOUT_MS. */
  timeoutMs?: number
}

/** What a heartbeat answer says (specs/estuary-autoretrieve.md §3). */
export interface HeartbeatAnswer {
  handle?: string
  /** Estuary's last advertisement of this node to IPNI; undefined when never (Go's zero time). */
  lastAdvertisement?: string
  /** The Go duration text as Estuary sent it, e.g. "1m0s". */
  advertiseInterval: string
  advertiseIntervalMs: number
}

/** What a registration answer says (specs/estuary-autoretrieve.md §2). */
export interface RegistrationAnswer {
  handle: string
  /** The heartbeat bearer token: a secret. */
  token: string
  peerId?: string
  addresses?: string[]
  /** Undefined when Estuary sent none or one that does not parse. */
  advertiseInterval?: string
  advertiseIntervalMs?: number
}

/**
 * The heartbeat URL for `advertise-endpoint-url`: the Go node appended `/autoretrieve/heartbeat`
 * to `estuary-url` (Estuary's API base), while its README example gave the full heartbeat URL;
 * both forms work.
 */
export function heartbeatUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '')
  return base.endsWith(HEARTBEAT_PATH) ? base : `${base}${HEARTBEAT_PATH}`
}

/** The URL without user:password, for logs and status. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.username === '' && u.password === '') return url
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return url
  }
}

/** `POST {url}` with `Authorization: Bearer <token>` and no body, as the Go node sent it. */
export async function sendHeartbeat(
  url: string,
  token: string,
  options: RequestOptions = {}
): Promise<HeartbeatAnswer> {
  const body = await estuaryRequest(
    url,
    { method: 'POST', headers: { Authorization: `Bearer ${token}` } },
    'the heartbeat',
    options
  )
  const interval = parseInterval(field(body, 'advertiseInterval'))
  if (interval === undefined) {
    throw new EstuaryAnswerError(
      `Estuary's heartbeat answer has no usable advertiseInterval (${JSON.stringify(field(body, 'advertiseInterval'))})`
    )
  }
  const lastAdvertisement = field(body, 'lastAdvertisement')
  return {
    handle: stringOrUndefined(field(body, 'handle')),
    lastAdvertisement:
      typeof lastAdvertisement === 'string' && !lastAdvertisement.startsWith('0001-01-01')
        ? lastAdvertisement
        : undefined,
    ...interval
  }
}

/**
 * `POST {endpoint}/admin/autoretrieve/init` with the Estuary admin token and the multipart form
 * fields `addresses` (comma separated multiaddrs) and `pubKey` (standard base64 of the libp2p
 * protobuf public key). Any status but 200 is a failure.
 */
export async function registerWithEstuary(
  endpoint: string,
  adminToken: string,
  fields: { addresses: string[]; pubKey: string },
  options: RequestOptions = {}
): Promise<RegistrationAnswer> {
  const form = new FormData()
  form.set('addresses', fields.addresses.join(','))
  form.set('pubKey', fields.pubKey)
  const body = await estuaryRequest(
    `${endpoint.replace(/\/+$/, '')}${REGISTER_PATH}`,
    { method: 'POST', headers: { Authorization: `Bearer ${adminToken}` }, body: form },
    'registration',
    options
  )
  const handle = field(body, 'handle')
  const token = field(body, 'token')
  if (typeof handle !== 'string' || handle === '' || typeof token !== 'string' || token === '') {
    throw new EstuaryAnswerError("Estuary's registration answer has no handle or token")
  }
  const addrInfo = field(body, 'addrInfo')
  const peerId = addrInfo !== null && typeof addrInfo === 'object' ? field(addrInfo, 'ID') : undefined
  const addrs = addrInfo !== null && typeof addrInfo === 'object' ? field(addrInfo, 'Addrs') : undefined
  return {
    handle,
    token,
    peerId: stringOrUndefined(peerId),
    addresses: Array.isArray(addrs) ? addrs.filter((a): a is string => typeof a === 'string') : undefined,
    ...parseInterval(field(body, 'advertiseInterval'))
  }
}

/** The public IP as ip-api.com's JSON (field `query`) says, the way the Go node found it. */
export async function lookupPublicIp(url: string, options: RequestOptions = {}): Promise<string> {
  const body = await estuaryRequest(url, { method: 'GET' }, 'the public IP lookup', options, 'the IP lookup service')
  const ip = field(body, 'query')
  if (typeof ip !== 'string' || ip === '') throw new EstuaryAnswerError(`${url} did not say the public IP (no "query")`)
  return ip
}

/** One bounded request: a timeout over headers and body, the caller's signal, a size cap, JSON out. */
async function estuaryRequest(
  url: string,
  init: RequestInit,
  what: string,
  options: RequestOptions,
  who = 'Estuary'
): Promise<Record<string, unknown>> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_ESTUARY_TIMEOUT_MS
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  const where = redactUrl(url)
  let res: Response
  let text: string
  try {
    res = await fetch(url, { ...init, signal })
    text = await readBounded(res, MAX_ESTUARY_ANSWER_BYTES)
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason
    if (err instanceof EstuaryAnswerError) throw err
    if (timeout.aborted) {
      throw new EstuaryUnreachableError(`${who} did not answer ${what} at ${where} within ${timeoutMs} ms`, {
        cause: err
      })
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const reason = cause?.code ?? cause?.message ?? (err as Error).message
    throw new EstuaryUnreachableError(`cannot reach ${who} at ${where} for ${what}: ${reason}`, { cause: err })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {}
  if (!res.ok) {
    throw new EstuaryStatusError(
      `${who} refused ${what} at ${where}: ${res.status} ${describeError(json, text)}`,
      res.status
    )
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new EstuaryAnswerError(`${who} answered ${what} at ${where} with something other than a JSON object`)
  }
  const error = field(json, 'error')
  if (error !== undefined && error !== null && error !== '') {
    throw new EstuaryAnswerError(`${who} answered ${what} at ${where} with an error: ${describeError(json, text)}`)
  }
  return json as Record<string, unknown>
}

async function readBounded(res: Response, max: number): Promise<string> {
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > max) {
      await reader.cancel().catch(() => {})
      throw new EstuaryAnswerError(`the answer from ${redactUrl(res.url)} is over ${max} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Estuary's `{"error": {"code", "reason", "details"}}` (or `{"error": "text"}`) as one line; else the body's start. */
function describeError(json: unknown, text: string): string {
  const error = json !== null && typeof json === 'object' ? field(json, 'error') : undefined
  if (typeof error === 'string') return error
  if (error !== null && typeof error === 'object') {
    const parts = [field(error, 'reason'), field(error, 'details')].filter((p) => typeof p === 'string' && p !== '')
    if (parts.length > 0) return parts.join(': ')
  }
  const line = text.replace(/\s+/g, ' ').trim()
  return line === '' ? '(empty body)' : line.length > 200 ? `${line.slice(0, 200)}…` : line
}

/** A JSON field read case-insensitively, as Go's encoding/json matches struct fields. */
function field(obj: object, name: string): unknown {
  const record = obj as Record<string, unknown>
  if (name in record) return record[name]
  const lower = name.toLowerCase()
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : record[key]
}

function parseInterval(value: unknown): { advertiseInterval: string; advertiseIntervalMs: number } | undefined {
  if (typeof value !== 'string') return undefined
  try {
    const ms = parseDuration(value)
    return ms > 0 ? { advertiseInterval: value, advertiseIntervalMs: ms } : undefined
  } catch {
    return undefined
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}
