import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeDagCbor, encodeDagCbor } from './cbor.ts'
import { MalformedMessageError } from './errors.ts'

/** Request types on the wire (`type`). Restart is commented out in Go's schema. */
export const RequestType = Object.freeze({ New: 'n', Cancel: 'c', Update: 'u' } as const)
export type RequestType = (typeof RequestType)[keyof typeof RequestType]

/** Link metadata actions (`meta[i][1]`). */
export const LinkAction = Object.freeze({
  Present: 'p',
  DuplicateNotSent: 'd',
  Missing: 'm',
  DuplicateDagSkipped: 's'
} as const)
export type LinkAction = (typeof LinkAction)[keyof typeof LinkAction]

/** Response status codes (`stat`), named as in go-graphsync's responsecode.go. */
export const ResponseStatus = Object.freeze({
  RequestAcknowledged: 10,
  AdditionalPeers: 11,
  NotEnoughGas: 12,
  OtherProtocol: 13,
  PartialResponse: 14,
  RequestPaused: 15,
  RequestCompletedFull: 20,
  RequestCompletedPartial: 21,
  RequestRejected: 30,
  RequestFailedBusy: 31,
  RequestFailedUnknown: 32,
  RequestFailedLegal: 33,
  RequestFailedContentNotFound: 34,
  RequestCancelled: 35
} as const)

export const isTerminalStatus = (status: number): boolean => status >= 20
export const isSuccessStatus = (status: number): boolean => status === 20 || status === 21

export type Extensions = Record<string, unknown>

export interface GraphsyncRequest {
  /** 16 bytes (a UUID in binary form). */
  id: Uint8Array
  type: RequestType
  /** Omitted on the wire when 0, as Go does. */
  priority?: number
  root?: CID
  /** The selector as an IPLD data-model value (inline, not bytes). */
  selector?: unknown
  extensions?: Extensions
}

export interface LinkMetadatum {
  link: CID
  action: LinkAction
}

export interface GraphsyncResponse {
  requestId: Uint8Array
  status: number
  metadata?: LinkMetadatum[]
  extensions?: Extensions
}

/** A block as it travels: CID prefix bytes and the data (the CID is computed by the receiver). */
export interface GraphsyncBlock {
  prefix: Uint8Array
  data: Uint8Array
}

export interface GraphsyncMessage {
  requests?: GraphsyncRequest[]
  responses?: GraphsyncResponse[]
  blocks?: GraphsyncBlock[]
}

const ACTIONS = new Set<string>(Object.values(LinkAction))
const TYPES = new Set<string>(Object.values(RequestType))

/** The CID prefix of a block: version, codec, multihash code and digest length as varints. */
export function cidPrefix(cid: CID): Uint8Array {
  const out: number[] = []
  for (const n of [cid.version, cid.code, cid.multihash.code, cid.multihash.size]) {
    let v = n
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80)
      v = Math.floor(v / 128)
    }
    out.push(v)
  }
  return Uint8Array.from(out)
}

function nonEmpty<T>(list: T[] | undefined): list is T[] {
  return list !== undefined && list.length > 0
}

function extensionsNode(ext: Extensions | undefined): Extensions | undefined {
  return ext !== undefined && Object.keys(ext).length > 0 ? ext : undefined
}

/** Builds the DAG-CBOR data model of a message, emitting exactly the keys Go emits. */
export function messageToNode(msg: GraphsyncMessage): unknown {
  const body: Record<string, unknown> = {}
  if (nonEmpty(msg.requests)) {
    body.req = msg.requests.map((r) => {
      const node: Record<string, unknown> = { id: r.id, type: r.type }
      if (r.type === RequestType.Cancel) return node
      if (r.type === RequestType.New) {
        if (r.root === undefined || r.selector === undefined)
          throw new TypeError('a New graphsync request needs a root and a selector')
        node.root = r.root
        node.sel = r.selector
        if (r.priority !== undefined && r.priority !== 0) node.pri = r.priority
      }
      const ext = extensionsNode(r.extensions)
      if (ext !== undefined) node.ext = ext
      return node
    })
  }
  if (nonEmpty(msg.responses)) {
    body.rsp = msg.responses.map((r) => {
      const node: Record<string, unknown> = { reqid: r.requestId, stat: r.status }
      if (nonEmpty(r.metadata)) node.meta = r.metadata.map((m) => [m.link, m.action])
      const ext = extensionsNode(r.extensions)
      if (ext !== undefined) node.ext = ext
      return node
    })
  }
  if (nonEmpty(msg.blocks)) body.blk = msg.blocks.map((b) => [b.prefix, b.data])
  return { gs2: body }
}

export function encodeMessage(msg: GraphsyncMessage): Uint8Array {
  return encodeDagCbor(messageToNode(msg))
}

/** A CBOR head: major type and argument, in the shortest form (as DAG-CBOR requires). */
function cborHead(major: number, n: number): Uint8Array {
  const m = major << 5
  if (n < 24) return Uint8Array.of(m | n)
  if (n < 0x100) return Uint8Array.of(m | 24, n)
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff)
  return Uint8Array.of(m | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
}

const TOP_AND_GS2 = Uint8Array.of(0xa1, 0x63, 0x67, 0x73, 0x32) // {"gs2": …
const BLK_KEY = Uint8Array.of(0x63, 0x62, 0x6c, 0x6b) // "blk"

/**
 * The bytes of encodeMessage, as a list that refers to each block's data instead of copying it:
 * a responder's messages are nearly all block bytes (bench/graphsync: the copy and cborg's pass
 * over 64 MiB cost the provider stand-in as much CPU as the transfer's encryption). "blk" sorts
 * first among the body's keys (all three letters long, so bytewise: blk < req < rsp), so it is
 * written first and the rest is encodeMessage's own encoding of the body without it.
 */
export function encodeMessageParts(msg: GraphsyncMessage): Uint8ArrayList {
  if (!nonEmpty(msg.blocks)) return new Uint8ArrayList(encodeMessage(msg))
  const rest = encodeDagCbor((messageToNode({ ...msg, blocks: [] }) as { gs2: Record<string, unknown> }).gs2)
  const restEntries = rest[0] & 0x1f // a map head of at most 2 entries: one byte
  const out = new Uint8ArrayList(TOP_AND_GS2, cborHead(5, restEntries + 1), BLK_KEY, cborHead(4, msg.blocks.length))
  for (const b of msg.blocks) {
    out.append(Uint8Array.of(0x82), cborHead(2, b.prefix.byteLength), b.prefix, cborHead(2, b.data.byteLength), b.data)
  }
  out.append(rest.subarray(1))
  return out
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && CID.asCID(v) === null

function fail(where: string, what: string): never {
  throw new MalformedMessageError(`graphsync message: ${where}: ${what}`)
}

function checkKeys(
  where: string,
  node: Record<string, unknown>,
  allowed: readonly string[],
  required: readonly string[]
) {
  for (const key of Object.keys(node)) if (!allowed.includes(key)) fail(where, `unknown key "${key}"`)
  for (const key of required) if (!(key in node)) fail(where, `missing key "${key}"`)
}

function list(where: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) fail(where, 'not a list')
  return v
}

function requestId(where: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array) || v.byteLength !== 16) fail(where, 'request ID is not 16 bytes')
  return v
}

function extensions(where: string, v: unknown): Extensions | undefined {
  if (v === undefined) return undefined
  if (!isMap(v)) fail(where, 'extensions are not a map')
  return v
}

function link(where: string, v: unknown): CID {
  const cid = CID.asCID(v)
  if (cid === null) fail(where, 'not a link')
  return cid
}

function int(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(where, 'not an integer')
  return v
}

/** Reads the data model of a message (any key order), checking it against the 2.0.0 schema. */
export function messageFromNode(node: unknown): GraphsyncMessage {
  if (!isMap(node)) fail('top level', 'not a map')
  checkKeys('top level', node, ['gs2'], ['gs2'])
  const body = node.gs2
  if (!isMap(body)) fail('gs2', 'not a map')
  checkKeys('gs2', body, ['req', 'rsp', 'blk'], [])
  const msg: GraphsyncMessage = {}
  if (body.req !== undefined) {
    msg.requests = list('req', body.req).map((r, i) => {
      const where = `req[${i}]`
      if (!isMap(r)) fail(where, 'not a map')
      checkKeys(where, r, ['id', 'type', 'pri', 'root', 'sel', 'ext'], ['id', 'type'])
      if (typeof r.type !== 'string' || !TYPES.has(r.type))
        fail(where, `unknown request type ${JSON.stringify(r.type)}`)
      const req: GraphsyncRequest = { id: requestId(where, r.id), type: r.type as RequestType }
      if (req.type === RequestType.Cancel) return req
      if (r.pri !== undefined) req.priority = int(`${where}.pri`, r.pri)
      if (r.root !== undefined) req.root = link(`${where}.root`, r.root)
      if (r.sel !== undefined) req.selector = r.sel
      const ext = extensions(`${where}.ext`, r.ext)
      if (ext !== undefined) req.extensions = ext
      if (req.type === RequestType.New && (req.root === undefined || req.selector === undefined))
        fail(where, 'a New request without root or selector')
      return req
    })
  }
  if (body.rsp !== undefined) {
    msg.responses = list('rsp', body.rsp).map((r, i) => {
      const where = `rsp[${i}]`
      if (!isMap(r)) fail(where, 'not a map')
      checkKeys(where, r, ['reqid', 'stat', 'meta', 'ext'], ['reqid', 'stat'])
      const rsp: GraphsyncResponse = { requestId: requestId(where, r.reqid), status: int(`${where}.stat`, r.stat) }
      if (r.meta !== undefined) {
        rsp.metadata = list(`${where}.meta`, r.meta).map((m, j) => {
          const w = `${where}.meta[${j}]`
          const pair = list(w, m)
          if (pair.length !== 2) fail(w, 'metadatum is not a [link, action] pair')
          if (typeof pair[1] !== 'string' || !ACTIONS.has(pair[1])) fail(w, `unknown action ${JSON.stringify(pair[1])}`)
          return { link: link(w, pair[0]), action: pair[1] as LinkAction }
        })
      }
      const ext = extensions(`${where}.ext`, r.ext)
      if (ext !== undefined) rsp.extensions = ext
      return rsp
    })
  }
  if (body.blk !== undefined) {
    msg.blocks = list('blk', body.blk).map((b, i) => {
      const where = `blk[${i}]`
      const pair = list(where, b)
      if (pair.length !== 2 || !(pair[0] instanceof Uint8Array) || !(pair[1] instanceof Uint8Array))
        fail(where, 'block is not a [prefix, data] pair of byte strings')
      return { prefix: pair[0], data: pair[1] }
    })
  }
  return msg
}

export function decodeMessage(bytes: Uint8Array): GraphsyncMessage {
  let node: unknown
  try {
    node = decodeDagCbor(bytes)
  } catch (cause) {
    throw new MalformedMessageError(`graphsync message: not DAG-CBOR: ${(cause as Error).message}`, { cause })
  }
  return messageFromNode(node)
}
