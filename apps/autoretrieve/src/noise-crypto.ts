import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import type { ICryptoInterface } from '@libp2p/noise'
import { defaultCrypto } from '@libp2p/noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * Noise's own Node.js crypto, with one change on the transport path: the ChaCha20-Poly1305 key is
 * imported once per session key instead of once per message. @libp2p/noise hands node:crypto the
 * raw key bytes for every message (up to 64 KiB), and preparing them is a third of the cost of
 * encrypting a 64 KiB message; a node sending 64 MiB to a peer does that 1,000+ times. The
 * encrypted message is also returned as [ciphertext, tag] rather than copied into one buffer.
 * Small messages (the handshake, wantlists) keep noise's own path.
 */
const SMALL = 1200
const ALGORITHM = 'chacha20-poly1305'

interface CachedKey {
  bytes: Buffer
  key: KeyObject
}

/** Keyed by the session's key array, and checked against its bytes: a key is never trusted by identity alone. */
const keys = new WeakMap<Uint8Array, CachedKey>()

function keyFor(k: Uint8Array): KeyObject {
  const cached = keys.get(k)
  if (cached?.bytes.equals(k)) return cached.key
  const bytes = Buffer.from(k) // a copy: the comparison must not see later changes to k
  const key = createSecretKey(bytes)
  keys.set(k, { bytes, key })
  return key
}

export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,

  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    if (plaintext.byteLength < SMALL) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
    const cipher = createCipheriv(ALGORITHM, keyFor(k), nonce, { authTagLength: 16 })
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength })
    const out = new Uint8ArrayList()
    if (plaintext instanceof Uint8Array) out.append(cipher.update(plaintext))
    else for (const part of plaintext) out.append(cipher.update(part))
    const final = cipher.final()
    if (final.byteLength > 0) out.append(final)
    out.append(cipher.getAuthTag())
    return out
  },

  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < SMALL) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
    const bodyLength = ciphertext.byteLength - 16
    const decipher = createDecipheriv(ALGORITHM, keyFor(k), nonce, { authTagLength: 16 })
    decipher.setAAD(ad, { plaintextLength: bodyLength })
    decipher.setAuthTag(ciphertext.subarray(bodyLength))
    const body =
      ciphertext instanceof Uint8Array ? ciphertext.subarray(0, bodyLength) : ciphertext.sublist(0, bodyLength)
    if (body instanceof Uint8Array) {
      const plain = decipher.update(body)
      const final = decipher.final() // throws when the tag does not match
      return final.byteLength > 0 ? Buffer.concat([plain, final]) : plain
    }
    const out = new Uint8ArrayList()
    for (const part of body) out.append(decipher.update(part))
    const final = decipher.final()
    if (final.byteLength > 0) out.append(final)
    return out
  }
}
