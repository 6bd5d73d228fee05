import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'

export class BlockDecodeError extends Error {
  static override name = 'BlockDecodeError'
  override name = 'BlockDecodeError'
  code = 'ERR_BLOCK_DECODE'
}

/**
 * The links of a block, in the order a DFS traversal follows them: dag-pb in link order, dag-cbor
 * in map-key order as encoded (canonical), raw has none. An unknown codec has no known links.
 */
export function blockLinks(cid: CID, bytes: Uint8Array): CID[] {
  try {
    switch (cid.code) {
      case raw.code:
        return []
      case dagPb.code:
        return dagPb.decode(bytes).Links.map((link) => link.Hash)
      case dagCbor.code: {
        const out: CID[] = []
        collectCids(dagCbor.decode(bytes), out, 0)
        return out
      }
      default:
        return []
    }
  } catch (cause) {
    throw new BlockDecodeError(`block ${cid} does not decode as ${codecName(cid.code)}: ${(cause as Error).message}`, {
      cause
    })
  }
}

export function codecName(code: number): string {
  return code === raw.code
    ? 'raw'
    : code === dagPb.code
      ? 'dag-pb'
      : code === dagCbor.code
        ? 'dag-cbor'
        : `0x${code.toString(16)}`
}

/** Depth bound for nested dag-cbor values: a hostile block cannot make the walk recurse without end. */
const MAX_NESTING = 512

function collectCids(value: unknown, out: CID[], depth: number): void {
  if (depth > MAX_NESTING) throw new Error(`nesting deeper than ${MAX_NESTING}`)
  const cid = CID.asCID(value)
  if (cid !== null) {
    out.push(cid)
    return
  }
  if (Array.isArray(value)) {
    for (const item of value) collectCids(item, out, depth + 1)
  } else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    // Keys in canonical DAG-CBOR order (shorter first, then bytewise), as encoded and as Go walks
    // them: a JavaScript object lists integer-like keys ("10") before the others ("a").
    const keys = Object.keys(value).sort(
      (a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b))
    )
    for (const key of keys) collectCids((value as Record<string, unknown>)[key], out, depth + 1)
  }
}
