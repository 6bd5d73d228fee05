import * as dagCbor from '@ipld/dag-cbor'
import { varint } from 'multiformats'
import type { CID } from 'multiformats/cid'

/** A CARv1 header naming `root`: varint(length) ‖ DAG-CBOR `{roots: [root], version: 1}` (CARv1 spec). */
export function carHeader(root: CID): Uint8Array {
  return lengthPrefixed(dagCbor.encode({ roots: [root], version: 1 }))
}

/**
 * The start of a CAR section for a block of `blockLength` bytes: varint(length of CID ‖ block) ‖
 * CID. The block's bytes follow as they are, so a block is never copied to frame it.
 */
export function sectionPrefix(cid: CID, blockLength: number): Uint8Array {
  const cidBytes = cid.bytes
  const total = cidBytes.byteLength + blockLength
  const out = new Uint8Array(varint.encodingLength(total) + cidBytes.byteLength)
  varint.encodeTo(total, out, 0)
  out.set(cidBytes, varint.encodingLength(total))
  return out
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const head = varint.encodingLength(bytes.byteLength)
  const out = new Uint8Array(head + bytes.byteLength)
  varint.encodeTo(bytes.byteLength, out, 0)
  out.set(bytes, head)
  return out
}
