import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeFrame, uvarintBytes } from '@autoretrieve/frames'
import { MAX_BLOCK_BYTES, MAX_CAR_HEADER_BYTES } from '@autoretrieve/interface'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import * as dagCbor from '@ipld/dag-cbor'
import { CarBlockTooLargeError, CarHeaderTooLargeError, MalformedCarError, readCar } from '../src/index.ts'

/** A source that counts what was pulled from it: a bounded reader stops pulling at the bad prefix. */
function counted(parts: Uint8Array[], tail?: { chunk: Uint8Array; times: number }) {
  const stats = { pulled: 0 }
  async function* source() {
    for (const p of parts) {
      stats.pulled += p.byteLength
      yield p
    }
    for (let i = 0; tail !== undefined && i < tail.times; i++) {
      stats.pulled += tail.chunk.byteLength
      yield tail.chunk
    }
  }
  return { source: source(), stats }
}

test('reads a CARv1 the way @ipld/car writes it, whatever the chunking', async () => {
  const fixture = await createUnixfsFixture({ size: 500_000, chunkSize: 100_000, seed: 5 })
  for (const size of [fixture.car.byteLength, 7, 65_536]) {
    const parts: Uint8Array[] = []
    for (let i = 0; i < fixture.car.byteLength; i += size) parts.push(fixture.car.subarray(i, i + size))
    const car = await readCar(counted(parts).source)
    assert.deepEqual(car.roots.map(String), [fixture.root.toString()])
    const got: string[] = []
    for await (const b of car.blocks) got.push(`${b.cid}:${b.bytes.byteLength}`)
    assert.deepEqual(
      got,
      fixture.blocks.map((b) => `${b.cid}:${b.bytes.byteLength}`)
    )
  }
})

test('a block claiming 1 GiB is refused from its length prefix, before its bytes are pulled', async () => {
  const fixture = await createUnixfsFixture({ size: 10_000, chunkSize: 10_000, seed: 6 })
  const header = encodeFrame(dagCbor.encode({ version: 1, roots: [fixture.root] })).subarray()
  const { source, stats } = counted([header, uvarintBytes(1024 ** 3), fixture.root.bytes], {
    chunk: new Uint8Array(64 * 1024),
    times: 16_384
  })
  const car = await readCar(source, { label: 'http://provider' })
  await assert.rejects(
    async () => {
      for await (const _ of car.blocks);
    },
    (err) => {
      assert.ok(err instanceof CarBlockTooLargeError)
      assert.equal(err.code, 'ERR_CAR_BLOCK_TOO_LARGE')
      assert.match(
        err.message,
        new RegExp(`^http://provider: block 1 claims 1073741824 bytes, over the ${MAX_BLOCK_BYTES + 256}`)
      )
      return true
    }
  )
  assert.ok(stats.pulled < 1024 * 1024, `pulled ${stats.pulled} bytes`)
})

test('a header claiming 100 MiB is refused from its prefix; a header of junk is malformed, not a crash', async () => {
  const { source, stats } = counted([uvarintBytes(100 * 1024 ** 2)], { chunk: new Uint8Array(64 * 1024), times: 1600 })
  await assert.rejects(readCar(source), (err) => {
    assert.ok(err instanceof CarHeaderTooLargeError)
    assert.match(err.message, new RegExp(`over the ${MAX_CAR_HEADER_BYTES}-byte CAR header limit`))
    return true
  })
  assert.ok(stats.pulled < 1024 * 1024)
  const junk = encodeFrame(Uint8Array.from([0xff, 0x00, 0x13])).subarray()
  await assert.rejects(readCar(counted([junk]).source), MalformedCarError)
  const v2 = encodeFrame(dagCbor.encode({ version: 2 })).subarray()
  await assert.rejects(readCar(counted([v2]).source), /not a CARv1 header \(version 2\)/)
  await assert.rejects(readCar(counted([]).source), /empty stream/)
})

test('a caller that stops at the DAG’s end never reads the junk behind it', async () => {
  const fixture = await createUnixfsFixture({ size: 10_000, chunkSize: 10_000, seed: 7 })
  const { source, stats } = counted([fixture.car, Uint8Array.from([0xff, 0xff, 0xff])], {
    chunk: new Uint8Array(64 * 1024).fill(0xff),
    times: 100
  })
  const car = await readCar(source)
  for await (const b of car.blocks) if (b.cid.equals(fixture.root)) break
  assert.ok(stats.pulled < 64 * 1024, `pulled ${stats.pulled}`)
})
