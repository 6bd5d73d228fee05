import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'

/** A CID's multihash in base58btc: CIDv0 and CIDv1 (any codec) of the same content share it. */
export function cidKey(cid: string): string {
  try {
    return base58btc.encode(CID.parse(cid).multihash.bytes)
  } catch {
    return cid
  }
}
