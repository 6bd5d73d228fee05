import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatFil, parseFil } from '../src/index.ts'

const FIL = 10n ** 18n

test('FIL and attoFIL amounts parse to attoFIL', () => {
  const cases: [string, bigint][] = [
    ['0.01 FIL', FIL / 100n],
    ['0.01', FIL / 100n],
    ['1 FIL', FIL],
    ['1fil', FIL],
    ['1.', FIL],
    ['  2.5 FIL ', (5n * FIL) / 2n],
    ['10000', 10000n],
    ['10000 attoFIL', 10000n],
    ['7 aFIL', 7n],
    ['0', 0n],
    ['0.000000000000000001 FIL', 1n],
    ['1.500000000000000000000', (3n * FIL) / 2n]
  ]
  for (const [text, atto] of cases) assert.equal(parseFil(text), atto, text)
})

test('amounts that are not FIL or attoFIL are refused with ERR_INVALID_AMOUNT', () => {
  for (const text of ['', 'FIL', '-1', '-0.1 FIL', '1e18', '0x10', '1.5 attoFIL', '0.0000000000000000001', '1 BTC']) {
    assert.throws(() => parseFil(text), { code: 'ERR_INVALID_AMOUNT' }, text)
  }
})

test('formatFil prints as Lotus does', () => {
  assert.equal(formatFil(0n), '0 FIL')
  assert.equal(formatFil(FIL / 100n), '0.01 FIL')
  assert.equal(formatFil(FIL), '1 FIL')
  assert.equal(formatFil(1n), '0.000000000000000001 FIL')
  assert.equal(formatFil(-FIL / 2n), '-0.5 FIL')
  for (const atto of [0n, 1n, FIL / 100n, 123456789n * FIL + 42n]) assert.equal(parseFil(formatFil(atto)), atto)
})
