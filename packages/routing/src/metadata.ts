import { decodeFirst, type TagDecoder } from 'cborg'
import { CID } from 'multiformats/cid'
import { MAX_UNKNOWN_METADATA_BYTES } from './constants.ts'
import { IndexerResponseError } from './errors.ts'
import type { GraphsyncMetadata, TransportProtocol } from './types.ts'

/** Transport multicodecs (multiformats table.csv). */
export const TRANSPORT_BITSWAP = 0x0900
export const TRANSPORT_GRAPHSYNC = 0x0910
export const TRANSPORT_HTTP = 0x0920
export const TRANSPORT_PIECE_HTTP = 0x0930

export interface MetadataEntry {
  code: number
  /** 'unknown' for a protocol we do not retrieve over (piece HTTP 0x0930, anything newer). */
  protocol: TransportProtocol | 'unknown'
  /** Only for 0x0910. */
  graphsync?: GraphsyncMetadata
}

function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0
  for (let i = pos, shift = 0; i < bytes.length && i < pos + 8; i++, shift += 7) {
    value += (bytes[i] & 0x7f) * 2 ** shift
    if ((bytes[i] & 0x80) === 0) return [value, i + 1]
  }
  throw new IndexerResponseError(`metadata: truncated or oversized varint at byte ${pos}`)
}

/**
 * IPNI metadata: one or more entries, each a transport multicodec varint and its payload
 * (bitswap: none; graphsync: one DAG-CBOR map; HTTP: a zero length; unknown: varint length and
 * bytes). Unknown protocols are kept as 'unknown' and parsing goes on, as go-libipni does.
 */
export function decodeMetadata(bytes: Uint8Array): MetadataEntry[] {
  if (bytes.length === 0) throw new IndexerResponseError('metadata: empty')
  const out: MetadataEntry[] = []
  let pos = 0
  while (pos < bytes.length) {
    const [code, next] = readVarint(bytes, pos)
    pos = next
    if (code === TRANSPORT_BITSWAP) {
      out.push({ code, protocol: 'bitswap' })
      continue
    }
    if (code === TRANSPORT_GRAPHSYNC) {
      const [graphsync, after] = decodeGraphsync(bytes, pos)
      out.push({ code, protocol: 'graphsync', graphsync })
      pos = after
      continue
    }
    const [len, after] = readVarint(bytes, pos)
    if (len > MAX_UNKNOWN_METADATA_BYTES) {
      throw new IndexerResponseError(`metadata: protocol 0x${code.toString(16)} claims a ${len}-byte payload`)
    }
    pos = after + len
    if (pos > bytes.length) {
      throw new IndexerResponseError(`metadata: protocol 0x${code.toString(16)} payload runs past the end`)
    }
    out.push({ code, protocol: code === TRANSPORT_HTTP ? 'http' : 'unknown' })
  }
  return out
}

function decodeGraphsync(bytes: Uint8Array, pos: number): [GraphsyncMetadata, number] {
  let value: unknown
  let rest: Uint8Array
  try {
    ;[value, rest] = decodeFirst(bytes.subarray(pos), { tags: linkTags() })
  } catch (cause) {
    throw new IndexerResponseError(`metadata: the graphsync entry is not DAG-CBOR (${(cause as Error).message})`, {
      cause
    })
  }
  const m = value as { PieceCID?: unknown; VerifiedDeal?: unknown; FastRetrieval?: unknown } | null
  const piece = CID.asCID(m?.PieceCID)
  if (piece === null || typeof m?.VerifiedDeal !== 'boolean' || typeof m?.FastRetrieval !== 'boolean') {
    throw new IndexerResponseError(
      'metadata: the graphsync entry lacks PieceCID (link), VerifiedDeal (bool) or FastRetrieval (bool)'
    )
  }
  const graphsync = { pieceCid: piece.toString(), verifiedDeal: m.VerifiedDeal, fastRetrieval: m.FastRetrieval }
  return [graphsync, bytes.length - rest.length]
}

function linkTags() {
  // cborg 6 hands a tag decoder a function that decodes the tagged value.
  const tags: TagDecoder[] = []
  // DAG-CBOR tag 42: a CID as bytes behind a 0x00 (identity multibase) prefix.
  tags[42] = (decode) => {
    const inner = decode()
    if (!(inner instanceof Uint8Array) || inner[0] !== 0) throw new Error('tag 42 is not a CID link')
    return CID.decode(inner.subarray(1))
  }
  return tags
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * Go's encoding/json writes []byte as standard padded base64. Node's Buffer decoder accepts
 * anything (it skips what it does not know), so check the text first.
 */
export function decodeBase64(text: string, what: string): Uint8Array {
  if (!BASE64.test(text)) throw new IndexerResponseError(`${what} is not standard base64`)
  return Buffer.from(text, 'base64')
}
