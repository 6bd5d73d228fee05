import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeHeader, encodeHead, HEADER_BYTES, RecordKind } from '../src/record.ts'

const key = Uint8Array.of(0x12, 2, 0xab, 0xcd)

test('a record header round-trips, and bytes that are not one are told apart', () => {
  const head = encodeHead(RecordKind.touch, key, 1234, 1_700_000_000_123.5)
  assert.equal(head.byteLength, HEADER_BYTES + key.byteLength)
  assert.deepEqual(decodeHeader(head), {
    kind: RecordKind.touch,
    keyLength: 4,
    dataLength: 1234,
    time: 1_700_000_000_123.5
  })
  assert.equal(head.subarray(0, 4).toString('latin1'), 'ARB1')
  const spoilt = (at: number, value: number) => {
    const b = Buffer.from(head)
    b.writeUInt8(value, at)
    return decodeHeader(b)
  }
  assert.equal(spoilt(0, 0x42), undefined, 'magic')
  assert.equal(spoilt(4, 4), undefined, 'an unknown kind')
  assert.equal(decodeHeader(Buffer.alloc(HEADER_BYTES)), undefined, 'zeros')
  const noKey = Buffer.from(head)
  noKey.writeUInt16LE(0, 6)
  assert.equal(decodeHeader(noKey), undefined, 'a key of no bytes')
})
