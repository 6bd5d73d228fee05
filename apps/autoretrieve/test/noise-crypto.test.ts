import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { defaultCrypto } from '@libp2p/noise/crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../src/noise-crypto.ts'

const bytes = (x: Uint8Array | Uint8ArrayList) => Buffer.from(x.subarray())

test('noise-crypto encrypts byte for byte as noise itself does, whole or in parts, small or large', () => {
  const k = randomBytes(32)
  const ad = randomBytes(7)
  for (const size of [0, 100, 1199, 1200, 4096, 65519]) {
    const nonce = randomBytes(12)
    const plain = randomBytes(size)
    const theirs = bytes(defaultCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k))
    assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k)), theirs, `${size} bytes`)
    const parts = new Uint8ArrayList(plain.subarray(0, size >> 1), plain.subarray(size >> 1))
    assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Encrypt(parts, nonce, ad, k)), theirs, `${size} bytes in parts`)
    assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Decrypt(theirs, nonce, ad, k)), plain, `${size} bytes back`)
    const split = new Uint8ArrayList(theirs.subarray(0, 10), theirs.subarray(10))
    if (size > 0) assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Decrypt(split, nonce, ad, k)), plain)
  }
})

test('noise-crypto refuses a message whose tag does not match, and follows a key that changed in place', () => {
  const k = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = new Uint8Array(0)
  const plain = randomBytes(8192)
  const sealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k))
  const tampered = Buffer.from(sealed)
  tampered[100] ^= 1
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(tampered, nonce, ad, k))
  // The cached key must not outlive the bytes it was made from.
  const before = Buffer.from(k)
  k.fill(7)
  const resealed = bytes(noiseCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k))
  assert.deepEqual(resealed, bytes(defaultCrypto.chaCha20Poly1305Encrypt(plain, nonce, ad, k)))
  assert.notDeepEqual(resealed, sealed)
  assert.throws(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k), 'sealed under the old key')
  assert.deepEqual(bytes(noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, before)), plain)
})
