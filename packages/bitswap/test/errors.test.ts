import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readFrames, uvarintBytes } from '@autoretrieve/frames'
import { toMessageError } from '../src/errors.ts'

async function read(bytes: Uint8Array, maxLength = 1024) {
  const frames: Uint8Array[] = []
  for await (const f of readFrames(
    (async function* () {
      yield bytes
    })(),
    { maxLength, label: 'bitswap message', mapError: toMessageError }
  ))
    frames.push(f)
  return frames
}

test('frames over the size limit and broken frames throw bitswap errors, with their codes and the cause', async () => {
  await assert.rejects(read(uvarintBytes(5000)), (err: Error & { code?: string; cause?: Error }) => {
    assert.equal(err.name, 'MessageTooLargeError')
    assert.equal(err.code, 'ERR_BITSWAP_MESSAGE_TOO_LARGE')
    assert.equal(err.cause?.name, 'FrameTooLargeError')
    return true
  })
  await assert.rejects(read(Uint8Array.from([...uvarintBytes(100), 1, 2, 3])), (err: Error & { code?: string }) => {
    assert.equal(err.name, 'MalformedMessageError')
    assert.equal(err.code, 'ERR_BITSWAP_MALFORMED')
    return true
  })
  await assert.rejects(read(new Uint8Array(11).fill(0x80)), { name: 'MalformedMessageError' })
  assert.deepEqual(await read(Uint8Array.from([...uvarintBytes(2), 7, 8])), [Uint8Array.of(7, 8)])
})
