import type { AbortOptions } from '@autoretrieve/interface'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { UnsupportedSelectorError } from './errors.ts'

/**
 * IPLD selectors as go-ipld-prime runs them, limited to what retrievals use: ExploreAll,
 * ExploreRecursive (depth or no limit) with its edge, ExploreFields, ExploreIndex, ExploreRange,
 * ExploreUnion, Matcher, and InterpretAs "unixfs" over plain (non-sharded) directories for the
 * path-then-all form Lassie sends. The same walk verifies what a responder sends and serves.
 */
export type Selector =
  | { kind: 'matcher' }
  | { kind: 'all'; next: Selector }
  | { kind: 'fields'; fields: Map<string, Selector> }
  | { kind: 'index'; index: number; next: Selector }
  | { kind: 'range'; start: number; end: number; next: Selector }
  | { kind: 'union'; members: Selector[] }
  | { kind: 'edge' }
  | { kind: 'recursive'; sequence: Selector; current: Selector; depth: number | undefined }
  | { kind: 'interpret'; as: string; next: Selector }

/** `{"R":{"l":{"none":{}},":>":{"a":{">":{"@":{}}}}}}`: the whole DAG (Lassie's dag-scope=all). */
export const EXPLORE_ALL_RECURSIVELY = Object.freeze({
  R: { l: { none: {} }, ':>': { a: { '>': { '@': {} } } } }
})

/** `{".":{}}`: the root block only. */
export const MATCH_ROOT = Object.freeze({ '.': {} })

/**
 * The path-then-all selector: each path segment looked up by name through the UnixFS view of a
 * directory, then `target` (the whole DAG by default) from the block the path reaches.
 */
export function pathSelector(segments: readonly string[], target: unknown = EXPLORE_ALL_RECURSIVELY): unknown {
  let selector = target
  for (let i = segments.length - 1; i >= 0; i--) {
    if (segments[i] === '') continue
    selector = { '~': { as: 'unixfs', '>': { f: { 'f>': { [segments[i]]: selector } } } } }
  }
  return selector
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && CID.asCID(v) === null

function unsupported(where: string, what: string): never {
  throw new UnsupportedSelectorError(`selector at ${where}: ${what}`)
}

function single(where: string, node: unknown): [string, unknown] {
  if (!isMap(node)) unsupported(where, 'not a map')
  const keys = Object.keys(node)
  if (keys.length !== 1) unsupported(where, `a selector is a map with one key, got ${keys.length}`)
  return [keys[0], node[keys[0]]]
}

function intField(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) unsupported(where, 'not a non-negative integer')
  return v
}

/** Parses a selector from its data model (as decoded from DAG-CBOR). */
export function parseSelector(node: unknown, where = '$'): Selector {
  const [key, body] = single(where, node)
  if (key === '|') {
    if (!Array.isArray(body)) unsupported(where, 'ExploreUnion body is not a list')
    return { kind: 'union', members: body.map((m, i) => parseSelector(m, `${where}.|[${i}]`)) }
  }
  if (!isMap(body)) unsupported(where, `"${key}" body is not a map`)
  switch (key) {
    case '.':
      if (body.onlyIf !== undefined || body.subset !== undefined) unsupported(where, 'matcher conditions and subsets')
      return { kind: 'matcher' }
    case 'a':
      return { kind: 'all', next: parseSelector(body['>'], `${where}.a`) }
    case 'f': {
      const fields = body['f>']
      if (!isMap(fields)) unsupported(where, 'ExploreFields without a "f>" map')
      return {
        kind: 'fields',
        fields: new Map(Object.entries(fields).map(([k, v]) => [k, parseSelector(v, `${where}.f["${k}"]`)]))
      }
    }
    case 'i':
      return { kind: 'index', index: intField(`${where}.i`, body.i), next: parseSelector(body['>'], `${where}.i`) }
    case 'r':
      return {
        kind: 'range',
        start: intField(`${where}.r.^`, body['^']),
        end: intField(`${where}.r.$`, body.$),
        next: parseSelector(body['>'], `${where}.r`)
      }
    case 'R': {
      if (body['!'] !== undefined) unsupported(where, 'ExploreRecursive stop conditions')
      const [limitKind, limitBody] = single(`${where}.R.l`, body.l)
      let depth: number | undefined
      if (limitKind === 'depth') depth = intField(`${where}.R.l.depth`, limitBody)
      else if (limitKind !== 'none') unsupported(where, `recursion limit "${limitKind}"`)
      const sequence = parseSelector(body[':>'], `${where}.R`)
      return { kind: 'recursive', sequence, current: sequence, depth }
    }
    case '@':
      return { kind: 'edge' }
    case '~': {
      if (typeof body.as !== 'string') unsupported(where, 'InterpretAs without "as"')
      return { kind: 'interpret', as: body.as, next: parseSelector(body['>'], `${where}.~`) }
    }
    case '&':
      unsupported(where, 'ExploreConditional')
  }
  unsupported(where, `unknown selector "${key}"`)
}

type Segment = string | number

function hasEdge(s: Selector): boolean {
  return s.kind === 'edge' || (s.kind === 'union' && s.members.some(hasEdge))
}

function replaceEdge(s: Selector, replacement: Selector | undefined): Selector | undefined {
  if (s.kind === 'edge') return replacement
  if (s.kind === 'union') {
    const members = s.members.map((m) => replaceEdge(m, replacement)).filter((m): m is Selector => m !== undefined)
    return members.length === 0 ? undefined : members.length === 1 ? members[0] : { kind: 'union', members }
  }
  return s
}

/** The selector for a child reached through `segment`, or undefined when it is not explored. */
function explore(s: Selector, segment: Segment): Selector | undefined {
  switch (s.kind) {
    case 'matcher':
    case 'edge':
      return undefined
    case 'all':
      return s.next
    case 'fields':
      return typeof segment === 'string' ? s.fields.get(segment) : s.fields.get(String(segment))
    case 'index':
      return segment === s.index ? s.next : undefined
    case 'range':
      return typeof segment === 'number' && segment >= s.start && segment < s.end ? s.next : undefined
    case 'union': {
      const next = s.members.map((m) => explore(m, segment)).filter((m): m is Selector => m !== undefined)
      return next.length === 0 ? undefined : next.length === 1 ? next[0] : { kind: 'union', members: next }
    }
    case 'interpret':
      return explore(s.next, segment)
    case 'recursive': {
      const next = explore(s.current, segment)
      if (next === undefined) return undefined
      if (!hasEdge(next)) return { ...s, current: next }
      if (s.depth !== undefined) {
        if (s.depth < 2) return replaceEdge(next, undefined)
        return { ...s, current: s.sequence, depth: s.depth - 1 }
      }
      return { ...s, current: s.sequence }
    }
  }
}

/** The ADL a selector asks the node to be read through before exploring it, if any. */
function interpretation(s: Selector): string | undefined {
  if (s.kind === 'interpret') return s.as
  if (s.kind === 'recursive') return interpretation(s.current)
  return undefined
}

const UNIXFS_DIRECTORY = 1
const UNIXFS_HAMT_SHARD = 5

/** The UnixFS type of a dag-pb node's Data (protobuf field 1, a varint), or undefined. */
function unixfsType(data: Uint8Array | undefined): number | undefined {
  if (data === undefined || data.byteLength < 2 || data[0] !== 0x08) return undefined
  return data[1] & 0x7f
}

/** A dag-pb directory read through UnixFS: a map of entry name to link. */
function reify(node: unknown, as: string, cid: CID): unknown {
  if (as !== 'unixfs' && as !== 'unixfs-preload') throw new UnsupportedSelectorError(`selector: unknown ADL "${as}"`)
  if (cid.code !== dagPb.code) return node
  const pb = node as dagPb.PBNode
  const type = unixfsType(pb.Data)
  if (type === UNIXFS_HAMT_SHARD)
    throw new UnsupportedSelectorError(`selector: UnixFS path lookup in the sharded directory ${cid}`)
  if (type !== UNIXFS_DIRECTORY) return node
  const entries: Record<string, CID> = {}
  for (const link of pb.Links) if (link.Name !== undefined) entries[link.Name] = link.Hash
  return entries
}

/** A decoded block's data model. Links are CID values. */
export function decodeNode(cid: CID, bytes: Uint8Array): unknown {
  switch (cid.code) {
    case dagPb.code:
      return dagPb.decode(bytes)
    case dagCbor.code:
      return dagCbor.decode(bytes)
    case 0x55:
      return bytes
    default:
      throw new UnsupportedSelectorError(`selector: cannot traverse codec 0x${cid.code.toString(16)} of ${cid}`)
  }
}

/**
 * Canonical DAG-CBOR key order (shorter first, then bytewise), the order Go encodes a map in and
 * walks it. A decoded map is a JavaScript object, which lists integer-like keys first ("10" before
 * "a"), so the order is restored here (packages/dag's blockLinks does the same).
 */
function encodedKeyOrder(a: string, b: string): number {
  return Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Children in data-model order: dag-pb is {Links, Data} (schema order), maps in encoded order. */
function children(node: unknown): Array<[Segment, unknown]> {
  if (node instanceof Uint8Array || node === null || typeof node !== 'object') return []
  if (CID.asCID(node) !== null) return []
  if (Array.isArray(node)) return node.map((v, i) => [i, v])
  return Object.entries(node as Record<string, unknown>).sort(([a], [b]) => encodedKeyOrder(a, b))
}

export interface TraversalOptions extends AbortOptions {
  /** Bound on link loads for one traversal (Boost and Lassie: 32 × 2^20). */
  maxLinks?: number
}

export const DEFAULT_MAX_LINKS = 32 * 2 ** 20

/**
 * Loads a link during a traversal: the block's bytes, or undefined when it is missing (the walk
 * skips that branch, as go-ipld-prime does for a graphsync "m").
 */
export type LinkLoader = (cid: CID) => Promise<Uint8Array | undefined>

export interface TraversalResult {
  /** Link loads, duplicates included: the number of metadata entries a responder emits. */
  links: number
  missing: CID[]
}

/**
 * Walks `selector` from `root` depth first, calling `load` for every link reached, in the order
 * go-ipld-prime reaches them (a block reached twice is loaded twice).
 */
export async function traverse(
  root: CID,
  selector: Selector,
  load: LinkLoader,
  options: TraversalOptions = {}
): Promise<TraversalResult> {
  const maxLinks = options.maxLinks ?? DEFAULT_MAX_LINKS
  const result: TraversalResult = { links: 0, missing: [] }

  const loadLink = async (cid: CID, next: Selector): Promise<void> => {
    options.signal?.throwIfAborted()
    if (++result.links > maxLinks) throw new UnsupportedSelectorError(`traversal over ${maxLinks} links`)
    const bytes = await load(cid)
    if (bytes === undefined) {
      result.missing.push(cid)
      return
    }
    await walk(decodeNode(cid, bytes), next, cid)
  }

  const walk = async (node: unknown, s: Selector, cid: CID): Promise<void> => {
    const as = interpretation(s)
    const view = as === undefined ? node : reify(node, as, cid)
    for (const [segment, child] of children(view)) {
      const next = explore(s, segment)
      if (next === undefined) continue
      const link = CID.asCID(child)
      if (link !== null) await loadLink(link, next)
      else await walk(child, next, cid)
    }
  }

  await loadLink(root, selector)
  return result
}
