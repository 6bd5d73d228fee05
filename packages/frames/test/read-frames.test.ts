import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeFrame, FrameTooLargeError, MalformedFrameError, readFrames, uvarintBytes } from '../src/index.ts'

const frame = (body: number[]) => encodeFrame(Uint8Array.from(body)).subarray()
const varint = (n: number) => [...uvarintBytes(n)]

async function* chunks(...parts: Uint8Array[]) {
  for (const p of parts) yield p
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<number[][]> {
  const out: number[][] = []
  for await (const f of source) out.push([...f])
  return out
}

test('splits frames whatever the chunking, including an empty frame and a prefix split across chunks', async () => {
  const big = Array.from({ length: 300 }, (_, i) => i & 0xff) // two-byte prefix
  const bytes = Uint8Array.from([...frame([1, 2, 3]), ...frame([]), ...frame(big)])
  const whole = await collect(readFrames(chunks(bytes), { maxLength: 1000 }))
  assert.deepEqual(whole, [[1, 2, 3], [], big])
  // one byte at a time: every prefix and body boundary falls between chunks
  const single = await collect(readFrames(chunks(...[...bytes].map((b) => Uint8Array.of(b))), { maxLength: 1000 }))
  assert.deepEqual(single, whole)
})

test('refuses a frame over the bound from its prefix alone, before the body arrives', async () => {
  let pulled = 0
  async function* source() {
    pulled++
    yield Uint8Array.from(varint(5_000_000))
    pulled++
    yield new Uint8Array(1024)
  }
  await assert.rejects(collect(readFrames(source(), { maxLength: 4 * 1024 * 1024, label: 'test message' })), (err) => {
    assert.ok(err instanceof FrameTooLargeError)
    assert.equal(err.length, 5_000_000)
    assert.match(err.message, /^test message of 5000000 bytes/)
    return true
  })
  assert.equal(pulled, 1, 'the body was not read')
})

test('a frame of exactly the bound passes', async () => {
  const out = await collect(readFrames(chunks(frame([9, 9, 9, 9])), { maxLength: 4 }))
  assert.deepEqual(out, [[9, 9, 9, 9]])
})

test('a stream that ends inside a frame or its prefix is malformed', async () => {
  await assert.rejects(collect(readFrames(chunks(Uint8Array.of(5, 1, 2)), { maxLength: 10 })), MalformedFrameError)
  await assert.rejects(collect(readFrames(chunks(Uint8Array.of(0x80)), { maxLength: 10 })), MalformedFrameError)
})

test('a length prefix longer than 10 bytes is malformed', async () => {
  await assert.rejects(
    collect(readFrames(chunks(new Uint8Array(11).fill(0x80)), { maxLength: 10 })),
    MalformedFrameError
  )
})

test('mapError turns the errors into the caller’s own classes', async () => {
  class MessageTooLargeError extends Error {}
  await assert.rejects(
    collect(
      readFrames(chunks(Uint8Array.from(varint(100))), {
        maxLength: 10,
        mapError: (err) => new MessageTooLargeError(err.message, { cause: err })
      })
    ),
    MessageTooLargeError
  )
})

test('the writer puts the length first as an unsigned varint, the payload after it uncopied', () => {
  assert.deepEqual([...uvarintBytes(0)], [0])
  assert.deepEqual([...uvarintBytes(127)], [0x7f])
  assert.deepEqual([...uvarintBytes(300)], [0xac, 0x02])
  assert.deepEqual([...uvarintBytes(2 ** 32)], [0x80, 0x80, 0x80, 0x80, 0x10])
  const payload = Uint8Array.of(1, 2, 3)
  const framed = encodeFrame(payload)
  assert.deepEqual([...framed.subarray()], [3, 1, 2, 3])
  assert.equal(framed.get(1), 1)
})

test('maxFirstLength bounds the first frame apart from the rest (a CAR header and its blocks)', async () => {
  const ok = Uint8Array.from([...frame([1, 2]), ...frame(Array(50).fill(7))])
  assert.deepEqual(
    (await collect(readFrames(chunks(ok), { maxLength: 100, maxFirstLength: 2 }))).map((f) => f.length),
    [2, 50]
  )
  const bigFirst = Uint8Array.from(frame([1, 2, 3]))
  await assert.rejects(collect(readFrames(chunks(bigFirst), { maxLength: 100, maxFirstLength: 2 })), (err) => {
    assert.ok(err instanceof FrameTooLargeError)
    assert.deepEqual([err.length, err.maxLength], [3, 2])
    return true
  })
})
