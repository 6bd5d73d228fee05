import { createHash } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { UnsupportedHashError } from './errors.ts'

const IDENTITY = 0x00
/** multihash code -> node:crypto algorithm (OpenSSL, so much faster than a JS hasher). */
const NODE_HASHES: Record<number, string> = {
  18: 'sha256',
  19: 'sha512',
  20: 'sha3-512',
  22: 'sha3-256'
}

export function isIdentity(cid: CID): boolean {
  return cid.multihash.code === IDENTITY
}

/** Whether `bytes` hash to the CID's multihash. Throws UnsupportedHashError for a hash we cannot check. */
export function matches(cid: CID, bytes: Uint8Array): boolean {
  const { code, digest } = cid.multihash
  if (code === IDENTITY) return Buffer.compare(Buffer.from(digest), Buffer.from(bytes)) === 0
  const algorithm = NODE_HASHES[code]
  if (algorithm === undefined)
    throw new UnsupportedHashError(`${cid}: multihash 0x${code.toString(16)} is not supported`)
  const actual = createHash(algorithm).update(bytes).digest()
  return actual.byteLength === digest.byteLength && actual.equals(digest)
}
