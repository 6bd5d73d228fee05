import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeBigIntBytes, encodeBigIntBytes } from '../src/index.ts'
import { fromHex, toHex } from './helpers.ts'

test('zero is the empty byte string', () => {
  assert.equal(toHex(encodeBigIntBytes(0n)), '')
  assert.equal(decodeBigIntBytes(new Uint8Array(0)), 0n)
})

test('a sign byte precedes the big-endian magnitude', () => {
  const cases: [bigint, string][] = [
    [1n, '0001'],
    [255n, '00ff'],
    [256n, '000100'],
    [-1n, '0101'],
    [-256n, '010100'],
    [10n ** 18n, '000de0b6b3a7640000'], // 1 FIL in attoFIL
    [(1n << 64n) - 1n, '00ffffffffffffffff'],
    [1n << 64n, '00010000000000000000']
  ]
  for (const [value, hex] of cases) {
    assert.equal(toHex(encodeBigIntBytes(value)), hex, String(value))
    assert.equal(decodeBigIntBytes(fromHex(hex)), value, hex)
  }
})

test('decodes a bare sign byte and leading zero bytes as Go does', () => {
  assert.equal(decodeBigIntBytes(fromHex('00')), 0n)
  assert.equal(decodeBigIntBytes(fromHex('01')), 0n)
  assert.equal(decodeBigIntBytes(fromHex('00000001')), 1n)
  assert.equal(decodeBigIntBytes(fromHex('010000ff')), -255n)
})

test('refuses a first byte that is not a sign byte', () => {
  for (const hex of ['02', 'ff01', '8000']) {
    assert.throws(() => decodeBigIntBytes(fromHex(hex)), {
      name: 'InvalidBigIntBytesError',
      code: 'ERR_INVALID_BIGINT_BYTES'
    })
  }
})

test('round-trips values of every byte length up to 40', () => {
  for (let bytes = 1; bytes <= 40; bytes++) {
    const value = (1n << BigInt(bytes * 8 - 1)) + 12345n
    for (const v of [value, -value]) assert.equal(decodeBigIntBytes(encodeBigIntBytes(v)), v)
  }
})
