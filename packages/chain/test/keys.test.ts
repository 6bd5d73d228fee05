import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  addressOfKey,
  formatAddress,
  generatePrivateKey,
  idAddress,
  sign,
  signatureFromBytes,
  signatureToBytes,
  verifySignature
} from '../src/index.ts'
import { KEY_A, KEY_B } from './helpers.ts'

const data = new TextEncoder().encode('pay me')

test('a signature verifies against its key address and no other', () => {
  const sig = sign(KEY_A, data)
  assert.equal(sig.type, 1)
  assert.equal(sig.data.length, 65)
  assert.ok(verifySignature(sig, data, addressOfKey(KEY_A)))
  assert.equal(verifySignature(sig, data, addressOfKey(KEY_B)), false)
  assert.equal(verifySignature(sig, new TextEncoder().encode('pay you'), addressOfKey(KEY_A)), false)
  // An f0 cannot be checked without a chain look-up.
  assert.equal(verifySignature(sig, data, idAddress(100n)), false)
})

test('signatures are deterministic and survive their byte form', () => {
  const sig = sign(KEY_A, data)
  assert.deepEqual(sign(KEY_A, data), sig)
  const bytes = signatureToBytes(sig)
  assert.equal(bytes[0], 1)
  assert.deepEqual(signatureFromBytes(bytes), sig)
  const other = generatePrivateKey()
  assert.equal(other.length, 32)
  assert.match(formatAddress(addressOfKey(other)), /^f1[a-z2-7]{39}$/)
  assert.ok(verifySignature(sign(other, data), data, addressOfKey(other)))
})

test('a tampered signature does not verify', () => {
  const sig = sign(KEY_A, data)
  const tampered = { type: sig.type, data: Uint8Array.from(sig.data) }
  tampered.data[10] ^= 1
  assert.equal(verifySignature(tampered, data, addressOfKey(KEY_A)), false)
  const badRecovery = { type: sig.type, data: Uint8Array.from(sig.data) }
  badRecovery.data[64] = 7
  assert.equal(verifySignature(badRecovery, data, addressOfKey(KEY_A)), false)
})

test('bad keys and signature bytes are refused', () => {
  assert.throws(() => sign(new Uint8Array(31), data), { code: 'ERR_INVALID_KEY' })
  assert.throws(() => sign(new Uint8Array(32), data), { code: 'ERR_INVALID_KEY' })
  assert.throws(() => signatureFromBytes(new Uint8Array([1, 2, 3])), { code: 'ERR_INVALID_KEY', message: /65 bytes/ })
  assert.throws(() => signatureFromBytes(new Uint8Array([9, 2, 3])), { code: 'ERR_INVALID_KEY', message: /type 9/ })
})
