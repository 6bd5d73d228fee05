import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'

/**
 * The in-memory map key for a multihash: its bytes in base64. Keys are by multihash, not CID, so a
 * CIDv0 and a CIDv1 (any codec) of the same bytes meet in one entry (Helia and boxo key wants the
 * same way). base64 because Buffer encodes it natively: it runs for every want, block and reply.
 * Never persisted: records and policy use `cidKey`.
 */
export function multihashKey(multihash: CID | Uint8Array): string {
  const b = multihash instanceof Uint8Array ? multihash : multihash.multihash.bytes
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
}

/**
 * The persisted key for a CID's content: its multihash as a multibase base58btc string (`z…`), as stored in retrieval records
 * and deny lists (CIDv0 and CIDv1 of one content share it). A string that does not parse as a CID
 * is its own key, so a malformed record still has one.
 */
export function cidKey(cid: CID | string): string {
  if (typeof cid !== 'string') return base58btc.encode(cid.multihash.bytes)
  try {
    return base58btc.encode(CID.parse(cid).multihash.bytes)
  } catch {
    return cid
  }
}
