import { decodeFirst } from 'cborg'
import { CID } from 'multiformats/cid'
import { IndexerResponseError } from './errors.ts'
import type { GraphsyncMetadata, TransportProtocol } from './types.ts'

export const TRANSPORT_BITSWAP = 0x0900
export const TRANSPORT_GRAPHSYNC = 0x0910
export const TRANSPORT_HTTP = 0x0920
export const TRANSPORT_PIECE_HTTP = 0x0930
/** go-libipni caps an unknown protocol's payload at this. */
const MAX_UNKNOWN_PAYLOAD = 1024

export interface MetadataEntry {
  code: number
  protocol: TransportProtocol | 'unknown'
  graphsync?: GraphsyncMetadata
}

function readVarint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0
  let shift = 0
  for (let i = pos; i < bytes.length && i < pos + 9; i++) {
    value += (bytes[i] & 0x7f) * 2 ** shift
    shift += 7
    if ((bytes[i] & 0x80) === 0) return [value, i + 1]
  }
  throw new IndexerResponseError('metadata: truncated varint')
}

/** IPNI metadata: one or more entries, each a transport multicodec varint then its payload. */
export function decodeMetadata(bytes: Uint8Array): MetadataEntry[] {
  const out: MetadataEntry[] = []
  let pos = 0
  if (bytes.length === 0) throw new IndexerResponseError('metadata is empty')
  while (pos < bytes.length) {
    const [code, next] = readVarint(bytes, pos)
    pos = next
    if (code === TRANSPORT_BITSWAP) {
      out.push({ code, protocol: 'bitswap' })
    } else if (code === TRANSPORT_GRAPHSYNC) {
      let value: unknown
      let rest: Uint8Array
      try {
        ;[value, rest] = decodeFirst(bytes.subarray(pos), { tags: dagCborTags() })
      } catch (cause) {
        throw new IndexerResponseError(`metadata: graphsync entry is not DAG-CBOR: ${(cause as Error).message}`, {
          cause
        })
      }
      pos = bytes.length - rest.length
      const m = value as { PieceCID?: unknown; VerifiedDeal?: unknown; FastRetrieval?: unknown }
      const piece = CID.asCID(m?.PieceCID)
      out.push({
        code,
        protocol: 'graphsync',
        graphsync: {
          pieceCid: piece?.toString(),
          verifiedDeal: m?.VerifiedDeal === true,
          fastRetrieval: m?.FastRetrieval === true
        }
      })
    } else if (code === TRANSPORT_HTTP || code === TRANSPORT_PIECE_HTTP) {
      const [len, after] = readVarint(bytes, pos)
      pos = after + len
      if (code === TRANSPORT_HTTP) out.push({ code, protocol: 'http' })
      else out.push({ code, protocol: 'unknown' })
    } else {
      const [len, after] = readVarint(bytes, pos)
      if (len > MAX_UNKNOWN_PAYLOAD)
        throw new IndexerResponseError(`metadata: protocol 0x${code.toString(16)} payload of ${len} bytes`)
      pos = after + len
      out.push({ code, protocol: 'unknown' })
    }
    if (pos > bytes.length) throw new IndexerResponseError('metadata: entry runs past the end')
  }
  return out
}

function dagCborTags() {
  const tags: Array<(inner: unknown) => unknown> = []
  // Tag 42 is a CID link in DAG-CBOR: bytes with a leading 0x00.
  tags[42] = (inner) => CID.decode((inner as Uint8Array).subarray(1))
  return tags
}
