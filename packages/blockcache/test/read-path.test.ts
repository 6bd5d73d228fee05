import assert from 'node:assert/strict'
import { test } from 'node:test'
import { multihashKey } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { BlockIndex } from '../src/block-index.ts'
import { BlockLogError } from '../src/errors.ts'
import { ReadPath, type ReadPathInit } from '../src/read-path.ts'
import type { Location } from '../src/record.ts'

async function block(n: number, size = 1000) {
  const bytes = new Uint8Array(size).fill(n)
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  return { cid, key: multihashKey(cid), bytes }
}
type Block = Awaited<ReturnType<typeof block>>

/**
 * A read path over a log in memory: `disk` holds each block's bytes by segment (the index's
 * offset is the block's number), and every read is counted.
 */
function readPath(init: Partial<ReadPathInit> = {}) {
  const index = new BlockIndex()
  const disk = new Map<string, Uint8Array>()
  const events: string[] = []
  let reads = 0
  const log = {
    async read(at: Location): Promise<Buffer> {
      reads++
      await new Promise((resolve) => setImmediate(resolve))
      const bytes = disk.get(`${at.segment}:${at.offset}`)
      if (bytes === undefined) throw new BlockLogError('gone', 'ERR_SEGMENT_GONE')
      return Buffer.from(bytes)
    }
  }
  const reader = new ReadPath(
    {
      log,
      index,
      touch: (key) => events.push(`touch ${key}`),
      corrupt: (_cid, key) => {
        events.push(`corrupt ${key}`)
        index.remove(key)
        reader.evict(key)
      },
      lost: (key) => {
        events.push(`lost ${key}`)
        index.remove(key)
      }
    },
    { hotSetBytes: 0, recentBytes: 0, ...init }
  )
  const store = (b: Block, bytes = b.bytes) => {
    const n = bytes[0]
    disk.set(`1:${n}`, bytes)
    index.place(b.key, { segment: 1, offset: n, span: bytes.byteLength + 54, size: bytes.byteLength, lastUsed: 0 })
  }
  return { reader, index, disk, events, store, reads: () => reads }
}

test('concurrent gets of a block share one read and one verification; a block not indexed is not read', async () => {
  const { reader, store, reads, events } = readPath()
  const b = await block(1)
  store(b)
  const got = await Promise.all([1, 2, 3].map(() => reader.get(b.cid, b.key)))
  assert.deepEqual(got[0], b.bytes)
  assert.equal(got[1], got[0])
  assert.equal(reads(), 1)
  assert.deepEqual(events, [`touch ${b.key}`])
  const absent = await block(2)
  assert.equal(await reader.get(absent.cid, absent.key), undefined)
  assert.equal(reads(), 1)
})

test('bytes that do not match, or a segment gone, are never returned: the block is reported and forgotten', async () => {
  const { reader, index, store, events } = readPath({ hotSetBytes: 64_000 })
  const bad = await block(3)
  store(bad, new Uint8Array(1000).fill(3).fill(0, 500))
  assert.equal(await reader.get(bad.cid, bad.key), undefined)
  assert.deepEqual(events, [`corrupt ${bad.key}`])
  assert.equal(reader.hotSet().blocks, 0, 'nothing unverified kept')
  const gone = await block(4)
  index.place(gone.key, { segment: 9, offset: 4, span: 1054, size: 1000, lastUsed: 0 })
  assert.equal(await reader.get(gone.cid, gone.key), undefined)
  assert.deepEqual(events.slice(1), [`lost ${gone.key}`])
})

test('the hot set serves verified blocks from memory, least recently used out first, bounded by bytes', async () => {
  const { reader, store, disk, reads } = readPath({ hotSetBytes: 8000 }) // blocks up to 1000 bytes
  const blocks = await Promise.all([10, 11, 12, 13, 14, 15, 16, 17, 18].map((n) => block(n)))
  for (const b of blocks) store(b)
  for (const b of blocks.slice(0, 8)) await reader.get(b.cid, b.key)
  assert.deepEqual(reader.hotSet(), { blocks: 8, bytes: 8000, hits: 0 })
  disk.clear() // from now on only memory answers
  assert.deepEqual(await reader.get(blocks[0].cid, blocks[0].key), blocks[0].bytes) // and it is the most recent now
  disk.set('1:18', blocks[8].bytes)
  await reader.get(blocks[8].cid, blocks[8].key) // in: blocks[1], the least recently used, goes
  assert.deepEqual(reader.hotSet(), { blocks: 8, bytes: 8000, hits: 1 })
  const readsBefore = reads()
  assert.deepEqual(await reader.get(blocks[0].cid, blocks[0].key), blocks[0].bytes)
  assert.equal(await reader.get(blocks[1].cid, blocks[1].key), undefined, 'dropped: read from disk, which is empty')
  assert.equal(reads(), readsBefore + 1)
  const big = await block(19, 1001)
  store(big)
  await reader.get(big.cid, big.key)
  assert.equal(reader.hotSet().blocks, 8, 'a block over an eighth of the bound is not kept')
  reader.evict(blocks[0].key)
  assert.equal(reader.hotSet().blocks, 7)
})

test('the last blocks written are served from memory by write order: reading one does not keep it longer', async () => {
  const { reader, index, reads } = readPath({ recentBytes: 2000 })
  const [a, b, c] = await Promise.all([20, 21, 22].map((n) => block(n)))
  for (const x of [a, b]) {
    index.place(x.key, { segment: 1, offset: x.bytes[0], span: 1054, size: 1000, lastUsed: 0 })
    reader.remember(x.key, x.bytes)
  }
  assert.equal(await reader.get(a.cid, a.key), a.bytes, 'from memory, the very bytes put')
  reader.remember(c.key, c.bytes) // a goes, though it was just read: order is by write
  index.place(c.key, { segment: 1, offset: 22, span: 1054, size: 1000, lastUsed: 0 })
  assert.equal(await reader.get(c.cid, c.key), c.bytes)
  assert.equal(await reader.get(b.cid, b.key), b.bytes)
  assert.equal(reads(), 0)
  assert.equal(await reader.get(a.cid, a.key), undefined, 'read from disk, where the fake has nothing')
  assert.equal(reads(), 1)
  // A view into a much larger buffer is copied, so the buffer is not kept alive.
  const d = await block(23)
  const chunk = new Uint8Array(10_000)
  chunk.set(d.bytes, 100)
  const view = chunk.subarray(100, 1100)
  reader.remember(d.key, view)
  index.place(d.key, { segment: 1, offset: 23, span: 1054, size: 1000, lastUsed: 0 })
  const kept = await reader.get(d.cid, d.key)
  assert.deepEqual(kept, d.bytes)
  assert.notEqual(kept?.buffer, chunk.buffer)
})

test('a block being written is found, sized and served from memory before it is indexed', async () => {
  const { reader, reads } = readPath()
  const b = await block(30)
  assert.equal(reader.contains(b.key), false)
  reader.writing.set(b.key, b.bytes)
  assert.equal(reader.contains(b.key), true)
  assert.equal(reader.size(b.key), 1000)
  assert.equal(await reader.get(b.cid, b.key), b.bytes)
  assert.equal(reads(), 0)
})
