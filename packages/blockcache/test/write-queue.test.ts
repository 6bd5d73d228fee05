import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Segment } from '../src/segment.ts'
import { batchLength } from '../src/write-queue.ts'

test('a writev takes the contiguous records of one segment at the head of the queue', () => {
  const a = { id: 1 } as Segment
  const b = { id: 2 } as Segment
  const w = (segment: Segment, at: number, bytes = 10) => ({ segment, at, bytes })
  assert.equal(batchLength([w(a, 0)]), 1)
  assert.equal(batchLength([w(a, 0), w(a, 10), w(a, 20), w(b, 0), w(a, 30)]), 3, 'up to another segment')
  assert.equal(batchLength([w(a, 0), w(a, 10), w(a, 40)]), 2, 'up to a gap (a failed write cut back)')
  const many = Array.from({ length: 300 }, (_, i) => w(a, i * 10))
  assert.equal(batchLength(many), 128, 'at most 128 records (IOV_MAX is 1024)')
  const big = Array.from({ length: 5 }, (_, i) => w(a, i * 16 * 1024 * 1024, 16 * 1024 * 1024))
  assert.equal(batchLength(big), 2, 'up to 32 MiB')
})
