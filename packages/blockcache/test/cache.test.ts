import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { base32 } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256 } from 'multiformats/hashes/sha2'
import { type BlockCacheInit, createBlockCache } from '../src/index.ts'

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

async function block(n: number, size = 1000) {
  const bytes = new Uint8Array(size).fill(n % 256)
  bytes[0] = n >> 8
  bytes[1] = n & 0xff
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

async function open(t: { after(fn: () => Promise<void>): void }, init: Partial<BlockCacheInit> = {}) {
  const path = init.path ?? (await mkdtemp(join(tmpdir(), 'ar-cache-')))
  const cache = createBlockCache({}, { path, ...init })
  await cache.start()
  t.after(async () => {
    await cache.stop()
    await rm(path, { recursive: true, force: true })
  })
  return { cache, path }
}

test('put, has and get round-trip, and CIDv0/v1 of the same bytes are one block', async (t) => {
  const { cache } = await open(t)
  const node = dagPb.encode({ Links: [] })
  const v0 = CID.createV0(await sha256.digest(node))
  assert.equal(await cache.put(v0, node), true)
  assert.equal(await cache.put(v0.toV1(), node), false, 'already there')
  assert.equal(await cache.has(v0.toV1()), true)
  assert.deepEqual(await cache.get(CID.createV1(raw.code, v0.multihash)), node)
  const { diskBytes, ...stats } = cache.stats()
  assert.deepEqual(stats, { blocks: 1, bytes: node.byteLength, corrupt: 0, pruned: 0, awaiting: 0 })
  assert.ok(diskBytes > node.byteLength, 'the block and its record header')
})

test('a block that does not match its CID is refused and nothing is written', async (t) => {
  const { cache, path } = await open(t)
  const { cid } = await block(1)
  await assert.rejects(cache.put(cid, new Uint8Array([1, 2, 3])), {
    name: 'BlockVerificationError',
    code: 'ERR_BLOCK_MISMATCH'
  })
  assert.equal(await cache.has(cid), false)
  assert.equal(cache.stats().diskBytes, 0)
  assert.deepEqual(await readdir(join(path, 'log')), [])
  const odd = CID.createV1(raw.code, {
    code: 0x1e,
    digest: new Uint8Array(32),
    size: 32,
    bytes: new Uint8Array([0x1e, 32, ...new Uint8Array(32)])
  } as never)
  await assert.rejects(cache.put(odd, new Uint8Array(1)), { name: 'UnsupportedHashError' })
})

test('identity CIDs are answered from the CID itself', async (t) => {
  const { cache } = await open(t)
  const bytes = new TextEncoder().encode('tiny')
  const cid = CID.createV1(raw.code, identity.digest(bytes))
  assert.equal(await cache.has(cid), true)
  assert.deepEqual(await cache.get(cid), bytes)
})

/** The segment files of the block log, oldest first. */
async function segments(path: string): Promise<string[]> {
  return (await readdir(join(path, 'log'))).sort().map((name) => join(path, 'log', name))
}

/** Overwrites a block's bytes where they lie in the log with zeros; true if they were found. */
async function spoil(path: string, bytes: Uint8Array): Promise<boolean> {
  for (const file of await segments(path)) {
    const content = await readFile(file)
    const at = content.indexOf(bytes)
    if (at < 0) continue
    content.fill(0, at, at + bytes.byteLength)
    await writeFile(file, content)
    return true
  }
  return false
}

test('a block corrupted on disk is detected, not served, removed and reported', async (t) => {
  const { cache, path } = await open(t)
  const { cid, bytes } = await block(2)
  await cache.put(cid, bytes)
  const seen: string[] = []
  cache.onCorrupt((c) => seen.push(c.toString()))
  assert.equal(await spoil(path, bytes), true)
  assert.equal(await cache.get(cid), undefined)
  assert.equal(await cache.has(cid), false)
  assert.deepEqual(seen, [cid.toString()])
  assert.equal(cache.stats().corrupt, 1)
  await cache.stop()
  const again = createBlockCache({}, { path })
  await again.start()
  t.after(() => again.stop())
  assert.equal(await again.has(cid), false, 'the drop was recorded: a restart does not bring it back')
})

test('the index survives a restart, and a record torn by a crash is cut off while the ones before it stay', async (t) => {
  const path = await mkdtemp(join(tmpdir(), 'ar-cache-'))
  t.after(() => rm(path, { recursive: true, force: true }))
  const first = createBlockCache({}, { path })
  await first.start()
  const blocks = await Promise.all(Array.from({ length: 20 }, (_, i) => block(i, 500 + i)))
  for (const b of blocks) await first.put(b.cid, b.bytes)
  await first.delete(blocks[3].cid)
  const before = first.stats()
  await first.stop()
  // A crash in the middle of a write: the start of a record, its data cut short.
  const [segment] = await segments(path)
  const whole = await readFile(segment)
  const torn = Buffer.alloc(40)
  torn.writeUInt32LE(0x31425241, 0) // the magic
  torn.writeUInt8(1, 4) // a block record
  torn.writeUInt16LE(4, 6) // of a 4-byte key
  torn.writeUInt32LE(10_000, 8) // and 10,000 bytes of data, of which 16 made it
  await writeFile(segment, Buffer.concat([whole, torn]))
  const second = createBlockCache({}, { path })
  await second.start()
  t.after(() => second.stop())
  assert.equal(second.stats().blocks, 19)
  assert.equal(second.stats().bytes, before.bytes)
  assert.equal(second.stats().diskBytes, before.diskBytes, 'the torn record was cut off')
  assert.equal((await readFile(segment)).byteLength, whole.byteLength)
  assert.equal(await second.has(blocks[3].cid), false, 'a deleted block stays deleted')
  for (const b of blocks.filter((_, i) => i !== 3)) assert.deepEqual(await second.get(b.cid), b.bytes)
  // New writes go on at the end of the last segment, after the cut.
  const extra = await block(99)
  await second.put(extra.cid, extra.bytes)
  assert.equal((await segments(path)).length, 1)
  assert.deepEqual(await second.get(extra.cid), extra.bytes)
})

test('a use is recorded in the log, so pin-duration and LRU order survive a restart', async (t) => {
  const path = await mkdtemp(join(tmpdir(), 'ar-cache-'))
  t.after(() => rm(path, { recursive: true, force: true }))
  let clock = 1_000_000_000
  const init = { path, pruneThresholdBytes: 3500, pinDurationMs: 60_000, lowWaterRatio: 0.5, now: () => clock }
  const first = createBlockCache({}, init)
  await first.start()
  const blocks = await Promise.all(Array.from({ length: 4 }, (_, i) => block(200 + i)))
  for (const b of blocks.slice(0, 3)) await first.put(b.cid, b.bytes)
  clock += 120_000 // the three are past pin-duration ...
  await first.get(blocks[0].cid) // ... but this one was just used
  await first.stop()
  const second = createBlockCache({}, init)
  await second.start()
  t.after(() => second.stop())
  await second.put(blocks[3].cid, blocks[3].bytes) // over the threshold
  await second.prune()
  assert.equal(await second.has(blocks[0].cid), true, 'used just before the restart: pinned')
  assert.equal(await second.has(blocks[3].cid), true, 'just written: pinned')
  assert.equal(await second.has(blocks[1].cid), false)
  assert.equal(await second.has(blocks[2].cid), false)
})

test('pruning frees disk space: empty segments go, and live blocks are copied out of mostly dead ones', async (t) => {
  let clock = 1_000_000_000
  const { cache, path } = await open(t, {
    pruneThresholdBytes: 20_000,
    pinDurationMs: 60_000,
    lowWaterRatio: 0.5,
    segmentBytes: 4300,
    now: () => clock
  })
  const blocks = await Promise.all(Array.from({ length: 24 }, (_, i) => block(400 + i)))
  // Four blocks of ~1 KiB a segment: six segments.
  for (const b of blocks) {
    await cache.put(b.cid, b.bytes)
    clock += 1000
  }
  assert.equal((await segments(path)).length, 6)
  clock += 120_000
  for (const i of [1, 5, 9, 13, 17, 21]) await cache.get(blocks[i].cid) // one a segment is in use
  await cache.prune()
  const { bytes, diskBytes } = cache.stats()
  assert.ok(bytes <= 10_000, `blocks over low water: ${bytes}`)
  assert.ok(diskBytes <= 20_000, `the log over the threshold: ${diskBytes}`)
  assert.ok((await segments(path)).length < 6, 'segments were freed')
  for (const i of [1, 5, 9, 13, 17, 21]) {
    assert.deepEqual(await cache.get(blocks[i].cid), blocks[i].bytes, `pinned block ${i} kept through compaction`)
  }
  // And after a restart the copies, not the old records, are what the index points at.
  await cache.stop()
  const again = createBlockCache({}, { path })
  await again.start()
  t.after(() => again.stop())
  assert.equal(again.stats().bytes, bytes)
  for (const i of [1, 5, 9, 13, 17, 21]) assert.deepEqual(await again.get(blocks[i].cid), blocks[i].bytes)
})

test('pruning keeps the cache under the threshold, least recently used first, never a pinned block, and stops at low water', async (t) => {
  let clock = 1_000_000_000
  const { cache } = await open(t, {
    pruneThresholdBytes: 10_000,
    pinDurationMs: 60_000,
    lowWaterRatio: 0.5,
    now: () => clock
  })
  const old: CID[] = []
  for (let i = 0; i < 8; i++) {
    const b = await block(i)
    await cache.put(b.cid, b.bytes)
    old.push(b.cid)
    clock += 1000
  }
  clock += 120_000 // the first eight are now past pin-duration
  await cache.get(old[0]) // ... but this one was just used
  const pinned: CID[] = []
  for (let i = 100; i < 104; i++) {
    const b = await block(i)
    await cache.put(b.cid, b.bytes)
    pinned.push(b.cid)
  }
  await cache.prune()
  const { bytes, pruned } = cache.stats()
  assert.ok(bytes <= 10_000, `over threshold: ${bytes}`)
  assert.ok(bytes > 4_000, `pruned past low water: ${bytes}`)
  assert.equal(pruned, 12 - bytes / 1000)
  for (const cid of pinned) assert.equal(await cache.has(cid), true, 'pinned block pruned')
  assert.equal(await cache.has(old[0]), true, 'recently used block pruned')
  assert.equal(await cache.has(old[1]), false, 'the least recently used goes first')
})

test('await resolves when the block lands, times out, and aborts; 1,000 awaiters leave nothing behind', async (t) => {
  const { cache } = await open(t)
  const { cid, bytes } = await block(7)
  const waits = Array.from({ length: 1000 }, () => cache.await(cid))
  // Each waiter is registered once its lookup found nothing: wait for that (a turn; at most 2,000).
  for (let turns = 0; cache.stats().awaiting < 1000 && turns < 2000; turns++) await tick()
  assert.equal(cache.stats().awaiting, 1000)
  await cache.put(cid, bytes)
  for (const got of await Promise.all(waits)) assert.deepEqual(got, bytes)
  assert.equal(cache.stats().awaiting, 0)

  const other = await block(8)
  await assert.rejects(cache.await(other.cid, { timeoutMs: 20 }), { name: 'AwaitTimeoutError' })
  const controller = new AbortController()
  const aborted = cache.await(other.cid, { signal: controller.signal })
  controller.abort()
  await assert.rejects(aborted, { name: 'AbortError' })
  assert.equal(cache.stats().awaiting, 0)
})

test('listeners hear of each new block once, as soon as it is verified, and one that throws breaks nothing', async (t) => {
  const { cache } = await open(t)
  const heard: string[] = []
  // Heard while its file is still being written: the block is already there to read.
  const during: Array<Promise<[boolean, Uint8Array | undefined]>> = []
  cache.onBlock((cid) => {
    during.push(Promise.all([cache.has(cid), cache.get(cid)]))
  })
  cache.onBlock(() => {
    throw new Error('bad listener')
  })
  cache.onBlock((cid) => heard.push(cid.toString()))
  // A listener that re-enters the cache must not deadlock it.
  cache.onBlock((cid) => {
    void cache.get(cid)
  })
  const b = await block(9)
  assert.equal(await cache.put(b.cid, b.bytes), true)
  await cache.put(b.cid, b.bytes)
  assert.deepEqual(heard, [b.cid.toString()])
  assert.equal(during.length, 1)
  const [present, bytes] = await during[0]
  assert.equal(present, true)
  assert.deepEqual(bytes, b.bytes)
})

test('a put marked hashChecked is not hashed again; bytes that do not match are still caught on read', async (t) => {
  const { cache } = await open(t)
  const b = await block(11)
  const wrong = new Uint8Array(b.bytes.byteLength)
  await assert.rejects(cache.put(b.cid, wrong), { name: 'BlockVerificationError' })
  // The caller vouches for the hash, so put trusts it; the read from disk checks again.
  assert.equal(await cache.put(b.cid, wrong, { hashChecked: true }), true)
  assert.equal(await cache.get(b.cid), undefined)
  assert.equal(cache.stats().corrupt, 1)
  assert.equal(await cache.put(b.cid, b.bytes, { hashChecked: true }), true)
  assert.deepEqual(await cache.get(b.cid), b.bytes)
})

test('with recentBytes, the last blocks written are served from memory; older ones and deleted ones are not', async (t) => {
  const { cache, path } = await open(t, { recentBytes: 2500 })
  const blocks = await Promise.all([20, 21, 22].map((i) => block(i)))
  for (const b of blocks) await cache.put(b.cid, b.bytes)
  // Spoil every block on disk: what still reads well came from memory.
  for (const b of blocks) assert.equal(await spoil(path, b.bytes), true)
  assert.deepEqual(await cache.get(blocks[2].cid), blocks[2].bytes)
  assert.deepEqual(await cache.get(blocks[1].cid), blocks[1].bytes)
  assert.equal(await cache.get(blocks[0].cid), undefined, 'past recentBytes: read from disk, caught')
  assert.equal(cache.stats().corrupt, 1)
  await cache.delete(blocks[2].cid)
  assert.equal(await cache.get(blocks[2].cid), undefined)
  assert.equal(await cache.has(blocks[2].cid), false)
})

test('concurrent puts of one block write it once', async (t) => {
  const { cache } = await open(t)
  const b = await block(10)
  const results = await Promise.all(Array.from({ length: 10 }, () => cache.put(b.cid, b.bytes)))
  assert.equal(results.filter(Boolean).length, 1)
  assert.equal(cache.stats().blocks, 1)
})

test('the hot set: a put is not trusted, the first read from disk is verified and detects a corrupted file', async (t) => {
  const { cache, path } = await open(t, { hotSetBytes: 64 * 1024 })
  const { cid, bytes } = await block(3)
  await cache.put(cid, bytes)
  assert.equal(await spoil(path, bytes), true)
  assert.equal(await cache.get(cid), undefined, 'the corrupted file is caught on its first read')
  assert.equal(cache.stats().corrupt, 1)
  assert.equal(await cache.has(cid), false)
  assert.deepEqual(cache.hotSet(), { blocks: 0, bytes: 0, hits: 0 }, 'nothing unverified was kept')
})

test('the hot set: a block read once is served again from memory, verified bytes only', async (t) => {
  const { cache, path } = await open(t, { hotSetBytes: 64 * 1024 })
  const { cid, bytes } = await block(4)
  await cache.put(cid, bytes)
  assert.deepEqual(await cache.get(cid), bytes)
  assert.deepEqual(cache.hotSet(), { blocks: 1, bytes: bytes.byteLength, hits: 0 })
  // The file goes bad after it was read and verified: the verified copy is what is served.
  assert.equal(await spoil(path, bytes), true)
  assert.deepEqual(await cache.get(cid), bytes)
  assert.equal(cache.hotSet().hits, 1)
  assert.equal(cache.stats().corrupt, 0)
})

test('the hot set is bounded by bytes, least recently used out first, and re-verifies what it dropped', async (t) => {
  const { cache, path } = await open(t, { hotSetBytes: 8000 })
  const blocks = []
  for (let i = 0; i < 9; i++) blocks.push(await block(30 + i))
  for (const b of blocks) await cache.put(b.cid, b.bytes)
  for (const b of blocks.slice(0, 8)) await cache.get(b.cid)
  assert.deepEqual(cache.hotSet(), { blocks: 8, bytes: 8000, hits: 0 })
  await cache.get(blocks[0].cid) // a hit, and now the most recently used
  await cache.get(blocks[8].cid) // over the bound: blocks[1], the least recently used, goes
  assert.deepEqual(cache.hotSet(), { blocks: 8, bytes: 8000, hits: 1 })
  // blocks[1] is read from disk again, so a corruption of its file is caught.
  assert.equal(await spoil(path, blocks[1].bytes), true)
  assert.equal(await cache.get(blocks[1].cid), undefined)
  assert.equal(cache.stats().corrupt, 1)
  assert.equal(cache.hotSet().hits, 1, 'not a hit: it had been dropped')
  assert.deepEqual(await cache.get(blocks[0].cid), blocks[0].bytes, 'kept: it was used recently')
  assert.equal(cache.hotSet().hits, 2)
})

test('the hot set: a block larger than an eighth of it is never kept; delete and prune drop what they remove', async (t) => {
  let clock = 1_000_000_000
  const { cache } = await open(t, {
    hotSetBytes: 8000,
    pruneThresholdBytes: 2500,
    pinDurationMs: 1000,
    lowWaterRatio: 0.5,
    now: () => clock
  })
  const big = await block(20, 1001)
  await cache.put(big.cid, big.bytes)
  await cache.get(big.cid)
  assert.equal(cache.hotSet().blocks, 0, 'over 1000 bytes')
  await cache.delete(big.cid)
  const a = await block(21)
  const b = await block(22)
  await cache.put(a.cid, a.bytes)
  await cache.get(a.cid)
  assert.equal(cache.hotSet().blocks, 1)
  assert.equal(await cache.delete(a.cid), true)
  assert.equal(cache.hotSet().blocks, 0, 'a deleted (e.g. denied) block is not served from memory')
  assert.equal(await cache.get(a.cid), undefined)
  await cache.put(a.cid, a.bytes)
  await cache.put(b.cid, b.bytes)
  await cache.get(a.cid)
  await cache.get(b.cid)
  assert.equal(cache.hotSet().blocks, 2)
  clock += 10_000
  const c = await block(23)
  await cache.put(c.cid, c.bytes) // 3000 bytes > 2500: a and b are past pin-duration and go
  await cache.prune()
  assert.equal(await cache.has(a.cid), false)
  assert.equal(await cache.get(a.cid), undefined, 'pruned: gone from memory too')
  assert.equal(cache.hotSet().blocks, 0)
})

test('concurrent reads of one block read and verify it once, and a corrupted file is reported once', async (t) => {
  const { cache, path } = await open(t)
  const good = await block(40)
  await cache.put(good.cid, good.bytes)
  const [a, b, c] = await Promise.all([cache.get(good.cid), cache.get(good.cid), cache.get(good.cid)])
  assert.deepEqual(a, good.bytes)
  assert.equal(a, b, 'one read shared')
  assert.equal(b, c)
  assert.equal(await spoil(path, good.bytes), true)
  const seen: string[] = []
  cache.onCorrupt((cid) => seen.push(cid.toString()))
  const results = await Promise.all([cache.get(good.cid), cache.get(good.cid)])
  assert.deepEqual(results, [undefined, undefined])
  assert.deepEqual(seen, [good.cid.toString()])
  assert.equal(cache.stats().corrupt, 1)
})

test('an aborted get rejects without spoiling the shared read for others', async (t) => {
  const { cache } = await open(t)
  const b = await block(41)
  await cache.put(b.cid, b.bytes)
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(cache.get(b.cid, { signal: controller.signal }), { name: 'AbortError' })
  assert.deepEqual(await cache.get(b.cid), b.bytes)
})

test('a cache in the older layout, a file per block, is moved into the log at start', async (t) => {
  const path = await mkdtemp(join(tmpdir(), 'ar-cache-'))
  t.after(() => rm(path, { recursive: true, force: true }))
  const blocks = await Promise.all(Array.from({ length: 5 }, (_, i) => block(300 + i)))
  for (const b of blocks) {
    const key = base32.encode(b.cid.multihash.bytes).slice(1)
    await mkdir(join(path, 'blocks', key.slice(-3, -1)), { recursive: true })
    await writeFile(join(path, 'blocks', key.slice(-3, -1), key), b.bytes)
  }
  await mkdir(join(path, 'tmp'))
  await writeFile(join(path, 'tmp', 'half-written'), new Uint8Array(10))
  const cache = createBlockCache({}, { path })
  await cache.start()
  t.after(() => cache.stop())
  assert.equal(cache.stats().blocks, 5)
  for (const b of blocks) assert.deepEqual(await cache.get(b.cid), b.bytes)
  assert.deepEqual((await readdir(path)).sort(), ['log', 'log.lock'], 'blocks/ and tmp/ are gone')
})

test('a delete while the block is being put waits for the put and removes it (a denied block does not stay)', async (t) => {
  const { cache, path } = await open(t)
  const b = await block(50)
  const put = cache.put(b.cid, b.bytes)
  assert.equal(await cache.delete(b.cid), true)
  assert.equal(await put, true)
  assert.equal(cache.contains(b.cid), false)
  await cache.stop()
  const again = createBlockCache({}, { path })
  await again.start()
  t.after(() => again.stop())
  assert.equal(again.contains(b.cid), false)
})

test('one writer per cache: a second open is refused while the first runs, a lock left by a dead process is taken over, read-only opens need none', async (t) => {
  const { cache, path } = await open(t)
  const b = await block(60)
  await cache.put(b.cid, b.bytes)
  const second = createBlockCache({}, { path })
  await assert.rejects(second.start(), { code: 'ERR_LOCKED' })
  const reader = createBlockCache({}, { path, readOnly: true })
  await reader.start()
  assert.deepEqual(await reader.get(b.cid), b.bytes)
  await assert.rejects(reader.put(b.cid, b.bytes), { code: 'ERR_READ_ONLY' })
  await reader.stop()
  await cache.stop()
  // A crash leaves the lock behind, with a pid nobody has.
  await writeFile(join(path, 'log.lock'), '2147483646\n')
  const after = createBlockCache({}, { path })
  await after.start()
  t.after(() => after.stop())
  assert.deepEqual(await after.get(b.cid), b.bytes)
})
