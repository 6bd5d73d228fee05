import assert from 'node:assert/strict'
import { test } from 'node:test'
import { multihashKey } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { BlockIndex, type Entry, multihashOfKey } from '../src/block-index.ts'

/** An entry of `size` bytes of data with a 54-byte header and key, as a sha256 block has. */
function entry(segment: number, offset: number, size: number, lastUsed: number): Entry {
  return { segment, offset, size, span: 54 + size, lastUsed }
}

test('the index keeps the bytes of blocks, of their records, and of each segment’s live records as blocks come and go', () => {
  const index = new BlockIndex()
  index.place('a', entry(1, 54, 100, 0))
  index.place('b', entry(1, 208, 200, 0))
  index.place('c', entry(2, 54, 300, 0))
  assert.deepEqual([index.size, index.bytes, index.liveSpan], [3, 600, 600 + 3 * 54])
  assert.deepEqual([index.liveIn(1), index.liveIn(2), index.liveIn(3)], [154 + 254, 354, 0])
  // A copy (compaction) replaces the record: the old one is dead space in its segment.
  index.place('a', entry(3, 54, 100, 0))
  assert.deepEqual([index.size, index.bytes, index.liveIn(1), index.liveIn(3)], [3, 600, 254, 154])
  assert.equal(index.remove('b')?.size, 200)
  assert.equal(index.remove('b'), undefined)
  assert.deepEqual([index.size, index.bytes, index.liveSpan, index.liveIn(1)], [2, 400, 154 + 354, 0])
  assert.deepEqual(index.keysIn(3), ['a'])
  assert.deepEqual(
    [...index.keysBySegment()].sort((x, y) => x[0] - y[0]),
    [
      [2, ['c']],
      [3, ['a']]
    ]
  )
  index.clear()
  assert.deepEqual([index.size, index.bytes, index.liveSpan, index.liveIn(2)], [0, 0, 0, 0])
})

test('a use is to be recorded at most once per throttle interval, and moves the last use on either way', () => {
  const index = new BlockIndex()
  index.place('a', entry(1, 54, 10, 1000))
  assert.equal(index.use('a', 1500, 60_000), false, 'used half a second after its put')
  assert.equal(index.get('a')?.lastUsed, 1500)
  assert.equal(index.use('a', 61_500, 60_000), true, 'a minute after the last use')
  assert.equal(index.get('a')?.lastUsed, 61_500)
  assert.equal(index.use('missing', 61_500, 60_000), false)
  // Touch records read back at start: the latest use wins, whatever the order.
  index.usedAt('a', 10)
  assert.equal(index.get('a')?.lastUsed, 61_500)
  index.usedAt('a', 70_000)
  assert.equal(index.get('a')?.lastUsed, 70_000)
})

test('an eviction plan takes the least recently used first, never a pinned block, and stops once the records fit', () => {
  const index = new BlockIndex()
  // Records of 154 bytes each; lastUsed out of insertion order.
  const uses = { a: 50, b: 10, c: 40, d: 20, e: 30, pinned: 5_000 }
  let offset = 0
  for (const [key, lastUsed] of Object.entries(uses)) {
    index.place(key, entry(1, offset + 54, 100, lastUsed))
    offset += 154
  }
  const keys = (plan: Array<[string, Entry]>) => plan.map(([key]) => key)
  // Every block unpinned but one, down to nothing: all of them, oldest use first.
  assert.deepEqual(keys(index.evictionPlan(1000, 0)), ['b', 'd', 'e', 'c', 'a'])
  // Down to three records' worth (462 bytes of 924): three go.
  assert.deepEqual(keys(index.evictionPlan(1000, 3 * 154)), ['b', 'd', 'e'])
  // A byte less: a fourth goes.
  assert.deepEqual(keys(index.evictionPlan(1000, 3 * 154 - 1)), ['b', 'd', 'e', 'c'])
  // Pinned since 30 (used at 30 or later): only b and d are candidates.
  assert.deepEqual(keys(index.evictionPlan(30, 0)), ['b', 'd'])
  assert.deepEqual(keys(index.evictionPlan(1000, 6 * 154)), [], 'already under')
  assert.equal(index.size, 6, 'a plan removes nothing')
})

test('an index key is the multihash in base64 and gives the multihash back', async () => {
  const cid = CID.createV1(raw.code, await sha256.digest(new Uint8Array([1, 2, 3])))
  const key = multihashKey(cid)
  assert.equal(key, multihashKey(CID.createV0(cid.multihash)), 'CIDv0 and v1 of one multihash: one key')
  assert.deepEqual(new Uint8Array(multihashOfKey(key)), cid.multihash.bytes)
})
