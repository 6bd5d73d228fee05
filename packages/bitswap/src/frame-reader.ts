import { Uint8ArrayList } from 'uint8arraylist'
import { MalformedMessageError, MessageTooLargeError } from './errors.ts'

/**
 * Splits a stream of chunks into varint-length-prefixed frames, refusing a frame longer than
 * `maxLength` as soon as its prefix says so (before buffering it). A stream that ends inside a
 * frame is a MalformedMessageError.
 */
export async function* readFrames(
  source: AsyncIterable<Uint8Array | Uint8ArrayList>,
  maxLength: number
): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8ArrayList()
  let want = -1
  for await (const chunk of source) {
    buffer.append(chunk)
    while (true) {
      if (want < 0) {
        let len = 0
        let shift = 0
        let i = 0
        let complete = false
        for (; i < buffer.byteLength && i < 10; i++) {
          const b = buffer.get(i)
          len += (b & 0x7f) * 2 ** shift
          shift += 7
          if ((b & 0x80) === 0) {
            complete = true
            break
          }
        }
        if (!complete) {
          if (buffer.byteLength >= 10) throw new MalformedMessageError('length prefix longer than 10 bytes')
          break
        }
        if (len > maxLength)
          throw new MessageTooLargeError(`message of ${len} bytes is over the ${maxLength}-byte limit`)
        buffer.consume(i + 1)
        want = len
      }
      if (buffer.byteLength < want) break
      const frame = buffer.subarray(0, want)
      buffer.consume(want)
      want = -1
      yield frame
    }
  }
  if (want >= 0 || buffer.byteLength > 0) throw new MalformedMessageError('stream ended inside a message')
}
