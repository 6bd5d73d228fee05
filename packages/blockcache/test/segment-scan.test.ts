import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeHead, RecordKind, type ScannedRecord } from '../src/record.ts'
import { type ScanSource, scanSegment } from '../src/segment-scan.ts'

const key = Uint8Array.of(0x12, 2, 0xab, 0xcd)

function record(kind: RecordKind, time: number, data = new Uint8Array(0)): Buffer {
  return Buffer.concat([encodeHead(kind, key, data.byteLength, time), data])
}

/** A segment file in memory that counts its reads. */
function source(bytes: Buffer): ScanSource & { reads: number; bytesRead: number } {
  const src = {
    reads: 0,
    bytesRead: 0,
    stat: async () => ({ size: bytes.byteLength }),
    read: async (buffer: Buffer, offset: number, length: number, position: number) => {
      const n = bytes.copy(buffer, offset, position, Math.min(bytes.byteLength, position + length))
      src.reads++
      src.bytesRead += n
      return { bytesRead: n, buffer }
    }
  }
  return src as unknown as ScanSource & { reads: number; bytesRead: number }
}

test('a scan hands over every record with where its data is, and stops at a torn tail saying where', async () => {
  const data = new Uint8Array(300).fill(7)
  const whole = Buffer.concat([
    record(RecordKind.block, 1, data),
    record(RecordKind.touch, 2),
    record(RecordKind.drop, 3)
  ])
  const torn = Buffer.concat([whole, record(RecordKind.block, 4, data).subarray(0, 100)])
  const records: ScannedRecord[] = []
  const damage: Array<[number, number, string]> = []
  const end = await scanSegment(
    source(torn),
    7,
    (r) => records.push(r),
    (...d) => damage.push(d)
  )
  assert.equal(end, whole.byteLength)
  assert.deepEqual(
    records.map(({ kind, time, size, span, segment, offset }) => ({ kind, time, size, span, segment, offset })),
    [
      { kind: RecordKind.block, time: 1, size: 300, span: 324, segment: 7, offset: 24 },
      { kind: RecordKind.touch, time: 2, size: 0, span: 24, segment: 7, offset: 348 },
      { kind: RecordKind.drop, time: 3, size: 0, span: 24, segment: 7, offset: 372 }
    ]
  )
  assert.deepEqual(new Uint8Array(records[0].key), key)
  assert.deepEqual(damage, [
    [whole.byteLength, torn.byteLength, `a record of 324 bytes at byte ${whole.byteLength} is cut off`]
  ])
})

test('a scan of large records reads their headers in small windows, not their data', async () => {
  const data = new Uint8Array(256 * 1024)
  const segment = Buffer.concat(Array.from({ length: 16 }, (_, i) => record(RecordKind.block, i, data)))
  const src = source(segment)
  let n = 0
  await scanSegment(
    src,
    1,
    () => n++,
    () => assert.fail('no damage')
  )
  assert.equal(n, 16)
  assert.equal(src.reads, 16, 'one read a header')
  assert.ok(src.bytesRead <= 16 * 8192, `${src.bytesRead} bytes read for 16 headers`)
})
