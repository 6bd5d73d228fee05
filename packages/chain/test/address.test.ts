import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  actorAddress,
  addressFromBytes,
  addressId,
  addressToBytes,
  formatAddress,
  idAddress,
  parseAddress
} from '../src/index.ts'
import { fromHex, toHex } from './helpers.ts'

test('ID addresses: decimal text, varint bytes, f and t networks', () => {
  const a = parseAddress('f01234')
  assert.equal(a.protocol, 0)
  assert.equal(toHex(addressToBytes(a)), '00d209')
  assert.equal(formatAddress(a), 'f01234')
  assert.equal(formatAddress(a, 't'), 't01234')
  assert.equal(addressId(a), 1234n)
  assert.equal(formatAddress(idAddress(1n)), 'f01')
  assert.equal(formatAddress(addressFromBytes(fromHex('0001'))), 'f01')
  assert.equal(formatAddress(parseAddress('t0' + ((1n << 63n) - 1n).toString())), `f0${(1n << 63n) - 1n}`)
})

test('robust addresses round-trip between text and bytes', () => {
  const a = actorAddress(new TextEncoder().encode('some actor'))
  const text = formatAddress(a)
  assert.match(text, /^f2[a-z2-7]+$/)
  assert.deepEqual(parseAddress(text), a)
  assert.deepEqual(addressFromBytes(addressToBytes(a)), a)
  const t = formatAddress(a, 't')
  assert.deepEqual(parseAddress(t), a)
})

test('bad address text is refused with ERR_INVALID_ADDRESS saying why', () => {
  const good = formatAddress(actorAddress(new Uint8Array([1, 2, 3])))
  const flipped = `${good.slice(0, -1)}${good.endsWith('a') ? 'b' : 'a'}`
  const cases: [string, RegExp][] = [
    [flipped, /checksum|canonical/],
    [`x${good.slice(1)}`, /network/],
    [`f9${good.slice(2)}`, /protocol/],
    [good.toUpperCase(), /network/],
    [`f2${good.slice(2).toUpperCase()}`, /base32/],
    ['f0', /wrong length/],
    ['f0-1', /decimal/],
    [`f0${1n << 63n}`, /2\^63/],
    ['f1aaaa', /too short|bytes|checksum/]
  ]
  for (const [text, message] of cases) {
    assert.throws(() => parseAddress(text), { code: 'ERR_INVALID_ADDRESS', message }, text)
  }
})

test('bad address bytes are refused', () => {
  assert.throws(() => addressFromBytes(new Uint8Array(0)), { code: 'ERR_INVALID_ADDRESS' })
  assert.throws(() => addressFromBytes(fromHex('0180')), { code: 'ERR_INVALID_ADDRESS' })
  assert.throws(() => addressFromBytes(fromHex('000100')), { code: 'ERR_INVALID_ADDRESS', message: /after the varint/ })
  assert.throws(() => addressFromBytes(fromHex('0080')), { code: 'ERR_INVALID_ADDRESS', message: /truncated/ })
  assert.throws(() => addressFromBytes(fromHex('058080')), { code: 'ERR_INVALID_ADDRESS', message: /protocol/ })
})
