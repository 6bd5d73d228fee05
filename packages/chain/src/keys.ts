// secp256k1 keys and signatures the way Lotus makes them (lib/sigs/secp): the signed digest is
// blake2b-256 of the data, the signature is r || s || recovery id (65 bytes, low s). Lotus' own
// signer mixes fresh entropy into the nonce; ours uses RFC 6979 nonces, which verifiers cannot
// tell apart and which make our signatures reproducible in tests.
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { blake2b } from '@noble/hashes/blake2.js'
import { type Address, addressEquals, secp256k1Address } from './address.ts'
import { InvalidKeyError } from './errors.ts'

/** Signature types as go-state-types crypto numbers them. */
export const SignatureType = { Secp256k1: 1, BLS: 2 } as const

/** A Filecoin signature: its type and the signature bytes (secp256k1: 65 bytes). */
export interface Signature {
  type: 1 | 2
  data: Uint8Array
}

const PRIVATE_KEY_LENGTH = 32
const SECP_SIGNATURE_LENGTH = 65
const BLS_SIGNATURE_LENGTH = 96

function checkPrivateKey(privateKey: Uint8Array): void {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== PRIVATE_KEY_LENGTH)
    throw new InvalidKeyError(`a secp256k1 private key is ${PRIVATE_KEY_LENGTH} bytes`)
  if (!secp256k1.utils.isValidSecretKey(privateKey))
    throw new InvalidKeyError('the private key is not a valid secp256k1 scalar')
}

/** A new random secp256k1 private key (32 bytes). */
export function generatePrivateKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey()
}

/** The uncompressed 65-byte public key of a secp256k1 private key. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  checkPrivateKey(privateKey)
  return secp256k1.getPublicKey(privateKey, false)
}

/** The f1 address of a secp256k1 private key. */
export function addressOfKey(privateKey: Uint8Array): Address {
  return secp256k1Address(publicKeyOf(privateKey))
}

/** Signs `data` with a secp256k1 key as Lotus' wallet does (blake2b-256 digest, r||s||v). */
export function sign(privateKey: Uint8Array, data: Uint8Array): Signature {
  checkPrivateKey(privateKey)
  const digest = blake2b(data, { dkLen: 32 })
  const recovered = secp256k1.sign(digest, privateKey, { prehash: false, lowS: true, format: 'recovered' })
  // noble puts the recovery id first; Filecoin puts it last.
  const out = new Uint8Array(SECP_SIGNATURE_LENGTH)
  out.set(recovered.subarray(1), 0)
  out[64] = recovered[0]
  return { type: 1, data: out }
}

/** The signature's byte form (type byte ++ data), as it appears in CBOR. */
export function signatureToBytes(signature: Signature): Uint8Array {
  const out = new Uint8Array(1 + signature.data.length)
  out[0] = signature.type
  out.set(signature.data, 1)
  return out
}

/** Reads a signature's byte form; throws {@link InvalidKeyError} on an unknown type or wrong length. */
export function signatureFromBytes(bytes: Uint8Array): Signature {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new InvalidKeyError('signature bytes are empty')
  const type = bytes[0]
  const data = Uint8Array.from(bytes.subarray(1))
  if (type === SignatureType.Secp256k1) {
    if (data.length !== SECP_SIGNATURE_LENGTH)
      throw new InvalidKeyError(`a secp256k1 signature is ${SECP_SIGNATURE_LENGTH} bytes, not ${data.length}`)
    return { type, data }
  }
  if (type === SignatureType.BLS) {
    if (data.length !== BLS_SIGNATURE_LENGTH)
      throw new InvalidKeyError(`a BLS signature is ${BLS_SIGNATURE_LENGTH} bytes, not ${data.length}`)
    return { type, data }
  }
  throw new InvalidKeyError(`unknown signature type ${type}`)
}

/**
 * Whether `signature` over `data` was made by the key of `address`. secp256k1: the public key is
 * recovered and its f1 address compared, so `address` must be the f1 address (an f0 needs a
 * Lotus look-up first). BLS signatures are not checked here and return false.
 */
export function verifySignature(signature: Signature, data: Uint8Array, address: Address): boolean {
  if (signature.type !== SignatureType.Secp256k1 || signature.data.length !== SECP_SIGNATURE_LENGTH) return false
  if (address.protocol !== 1) return false
  const recovery = signature.data[64]
  if (recovery > 3) return false
  const digest = blake2b(data, { dkLen: 32 })
  const recovered = new Uint8Array(SECP_SIGNATURE_LENGTH)
  recovered[0] = recovery
  recovered.set(signature.data.subarray(0, 64), 1)
  try {
    // High-s signatures are accepted, as Lotus' verifier (go-crypto EcRecover) accepts them.
    const sig = secp256k1.Signature.fromBytes(recovered, 'recovered')
    const publicKey = sig.recoverPublicKey(digest).toBytes(false)
    return addressEquals(secp256k1Address(publicKey), address)
  } catch {
    return false
  }
}
