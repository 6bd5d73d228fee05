import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_BLOCK_BYTES } from '@autoretrieve/interface'
import { createUnixfsFixture, type UnixfsFixture } from '@autoretrieve/testkit'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { BlockIntake, type IntakeInit } from '../src/intake.ts'
import type { AdapterBlock } from '../src/types.ts'

const PROVIDER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const RAW = 0x55

/** A cache that records every write and can hold each one back until released. */
function recordingCache(options: { hold?: boolean } = {}) {
  const written: Array<{ cid: CID; hashChecked?: boolean }> = []
  const held: Array<() => void> = []
  let pending = 0
  let maxPending = 0
  return {
    written,
    held,
    get maxPending() {
      return maxPending
    },
    async put(cid: CID, _bytes: Uint8Array, opts?: { hashChecked?: boolean }) {
      pending++
      maxPending = Math.max(maxPending, pending)
      if (options.hold) await new Promise<void>((resolve) => held.push(resolve))
      pending--
      written.push({ cid, hashChecked: opts?.hashChecked })
      return true
    }
  }
}

function intakeFor(root: CID, cache: IntakeInit['cache'], init: Partial<IntakeInit> = {}) {
  return new BlockIntake({ root, ordered: true, provider: PROVIDER, cache, ...init })
}

async function* stream(blocks: Iterable<AdapterBlock>): AsyncGenerator<AdapterBlock> {
  yield* blocks
}

async function rawBlock(text: string): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = new TextEncoder().encode(text)
  return { cid: CID.createV1(RAW, await sha256.digest(bytes)), bytes }
}

let fixture: UnixfsFixture
test.before(async () => {
  fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 100_000, seed: 41 })
})

test('takes a whole DAG in DFS order: every block written once, hash-checked, its links announced', async () => {
  const cache = recordingCache()
  const announced: string[] = []
  const intake = intakeFor(fixture.root, cache, { onLinks: (links) => announced.push(...links.map(String)) })
  await intake.take(stream(fixture.blocks))
  assert.equal(intake.blocks, fixture.blocks.length)
  assert.equal(
    intake.bytes,
    fixture.blocks.reduce((n, b) => n + b.bytes.byteLength, 0)
  )
  assert.deepEqual(
    cache.written.map((w) => [w.cid.toString(), w.hashChecked]),
    fixture.blocks.map((b) => [b.cid.toString(), true])
  )
  assert.deepEqual(
    announced,
    fixture.blocks.slice(1).map((b) => b.cid.toString())
  )
})

test('a block whose bytes do not hash to its CID fails wrong_block and is not written', async () => {
  const cache = recordingCache()
  const [root, ...rest] = fixture.blocks
  const tampered = { cid: rest[0].cid, bytes: rest[1].bytes }
  const intake = intakeFor(fixture.root, cache)
  await assert.rejects(intake.take(stream([root, tampered, ...rest.slice(1)])), {
    name: 'AttemptError',
    errorClass: 'wrong_block'
  })
  assert.deepEqual(
    cache.written.map((w) => w.cid.toString()),
    [root.cid.toString()]
  )
  assert.equal(intake.blocks, 1)
})

test('a genuine block the walk did not ask for next fails unexpected_block, in order and out of order', async () => {
  const stranger = await rawBlock('not part of this DAG')
  const [root, first, second] = fixture.blocks
  // Ordered (a CAR): the second leaf before the first.
  const ordered = intakeFor(fixture.root, recordingCache())
  await assert.rejects(ordered.take(stream([root, second, first])), {
    name: 'AttemptError',
    errorClass: 'unexpected_block'
  })
  // Unordered (Bitswap): any order among the wanted blocks, but nothing that was not wanted.
  const cache = recordingCache()
  const unordered = intakeFor(fixture.root, cache, { ordered: false })
  await assert.rejects(unordered.take(stream([root, second, first, stranger])), {
    name: 'AttemptError',
    errorClass: 'unexpected_block'
  })
  assert.equal(cache.written.length, 3, 'the blocks before the stranger were kept')
})

test('a block whose CID the adapter computed from its bytes is not hashed again; one from the wire is', async () => {
  // The same wrong bytes under the same CID: trusted when the adapter says it made the CID from
  // them (Bitswap, Graphsync), refused when the CID came with the bytes (a CAR).
  const { cid } = await rawBlock('the real block')
  const other = new TextEncoder().encode('some other bytes')
  const cache = recordingCache()
  await intakeFor(cid, cache).take(stream([{ cid, bytes: other, hashed: true }]))
  assert.deepEqual(
    cache.written.map((w) => [w.cid.toString(), w.hashChecked]),
    [[cid.toString(), true]]
  )
  await assert.rejects(intakeFor(cid, recordingCache()).take(stream([{ cid, bytes: other }])), {
    name: 'AttemptError',
    errorClass: 'wrong_block'
  })
})

test('a block the cache already held is walked but not written again', async () => {
  const cache = recordingCache()
  const [root, ...rest] = fixture.blocks
  const seen: boolean[] = []
  const intake = intakeFor(fixture.root, cache, { onBlock: (b) => seen.push(b.local === true) })
  await intake.take(stream([{ ...root, local: true }, ...rest]))
  assert.equal(intake.blocks, fixture.blocks.length)
  assert.equal(cache.written.length, fixture.blocks.length - 1)
  assert.deepEqual(seen, [true, ...rest.map(() => false)])
})

test('a stream that ends before the DAG is whole fails incomplete, naming the next block, with no write left running', async () => {
  const cache = recordingCache({ hold: true })
  const cut = fixture.blocks.slice(0, 3)
  const intake = intakeFor(fixture.root, cache)
  const releaser = setInterval(() => cache.held.shift()?.(), 5)
  try {
    await assert.rejects(intake.take(stream(cut)), (err: Error & { errorClass?: string }) => {
      assert.equal(err.name, 'AttemptError')
      assert.equal(err.errorClass, 'incomplete')
      assert.ok(err.message.includes(fixture.blocks[3].cid.toString()), err.message)
      return true
    })
  } finally {
    clearInterval(releaser)
  }
  assert.equal(cache.written.length, 3, 'every write started had finished when take() settled')
  // An empty stream is incomplete too: not even the root came.
  await assert.rejects(intakeFor(fixture.root, recordingCache()).take(stream([])), { errorClass: 'incomplete' })
})

test('at most writesInFlight cache writes run at once while the stream is read on', async () => {
  const cache = recordingCache({ hold: true })
  const intake = intakeFor(fixture.root, cache, { writesInFlight: 2 })
  const releaser = setInterval(() => cache.held.shift()?.(), 1)
  try {
    await intake.take(stream(fixture.blocks))
  } finally {
    clearInterval(releaser)
  }
  assert.equal(cache.written.length, fixture.blocks.length)
  assert.ok(cache.maxPending <= 2, `max pending ${cache.maxPending}`)
  assert.ok(cache.maxPending >= 2, 'writes did overlap')
})

test('a block over the 2 MiB limit fails block_too_large from any adapter, and is not written', async () => {
  const big = new Uint8Array(MAX_BLOCK_BYTES + 1)
  const cid = CID.createV1(RAW, await sha256.digest(big))
  const cache = recordingCache()
  await assert.rejects(intakeFor(cid, cache, { ordered: false }).take(stream([{ cid, bytes: big, hashed: true }])), {
    errorClass: 'block_too_large'
  })
  assert.equal(cache.written.length, 0)
})

test('reading stops once the DAG is whole: what follows is never pulled and is no failure', async () => {
  let pulledAfter = 0
  async function* withJunk(): AsyncGenerator<AdapterBlock> {
    yield* fixture.blocks
    for (let i = 0; i < 100; i++) {
      pulledAfter++
      yield { cid: fixture.root, bytes: Uint8Array.of(i) } // would fail wrong_block if read
    }
  }
  const cache = recordingCache()
  const intake = intakeFor(fixture.root, cache)
  await intake.take(withJunk())
  assert.equal(intake.blocks, fixture.blocks.length)
  assert.equal(pulledAfter, 0)
})

test('the verified blocks waiting for the cache are bounded in bytes as well as in count', async () => {
  // A cache that holds every write until released, counting the bytes it holds.
  let held = 0
  let most = 0
  const waiting: Array<() => void> = []
  const cache = {
    async put(_cid: CID, bytes: Uint8Array) {
      held += bytes.byteLength
      most = Math.max(most, held)
      await new Promise<void>((resolve) => waiting.push(resolve))
      held -= bytes.byteLength
      return true
    }
  }
  const intake = intakeFor(fixture.root, cache, { writesInFlight: 100, maxBufferedBytes: 250_000 })
  const releaser = setInterval(() => waiting.shift()?.(), 1)
  try {
    await intake.take(stream(fixture.blocks))
  } finally {
    clearInterval(releaser)
  }
  // The bound, plus the one block that crossed it (its write starts before the oldest is awaited).
  assert.ok(most <= 250_000 + 100_000, `held ${most} bytes at most`)
  assert.ok(most > 200_000, 'writes did overlap')
})
