import { Uint8ArrayList } from 'uint8arraylist'
import { FrameTooLargeError, MalformedFrameError } from './errors.ts'

/** A varint of a length takes at most 10 bytes (a 64-bit value, 7 bits a byte). */
const MAX_PREFIX_BYTES = 10

export interface ReadFramesOptions {
  /** The largest frame accepted, in bytes. A longer one throws as soon as its prefix is read. */
  maxLength: number
  /**
   * The largest first frame, when it is bounded apart from the rest (a CAR's header frame is small,
   * its block frames large). @default maxLength
   */
  maxFirstLength?: number
  /** Names the protocol in error messages (`bitswap message of 5000000 bytes is over …`). */
  label?: string
  /**
   * Turns the reader's errors into the caller's own classes (each protocol package has its
   * MalformedMessageError / MessageTooLargeError with its own code). Default: throw them as they are.
   */
  mapError?: (err: MalformedFrameError | FrameTooLargeError) => Error
}

/**
 * Splits a stream of chunks into unsigned-varint-length-prefixed frames (Bitswap and Graphsync
 * frame their messages so). Bounded: a frame longer than `maxLength`
 * is refused as soon as its prefix says so, before it is buffered; at most one frame plus one
 * chunk is held. A stream that ends inside a frame is malformed.
 */
export async function* readFrames(
  source: AsyncIterable<Uint8Array | Uint8ArrayList>,
  options: ReadFramesOptions
): AsyncGenerator<Uint8Array> {
  const { maxLength, label = 'frame' } = options
  const fail = (err: MalformedFrameError | FrameTooLargeError): Error => options.mapError?.(err) ?? err
  const buffer = new Uint8ArrayList()
  let want = -1
  let frames = 0
  for await (const chunk of source) {
    buffer.append(chunk)
    while (true) {
      if (want < 0) {
        let len = 0
        let i = 0
        let complete = false
        for (; i < buffer.byteLength && i < MAX_PREFIX_BYTES; i++) {
          const b = buffer.get(i)
          len += (b & 0x7f) * 2 ** (7 * i)
          if ((b & 0x80) === 0) {
            complete = true
            break
          }
        }
        if (!complete) {
          if (buffer.byteLength >= MAX_PREFIX_BYTES)
            throw fail(new MalformedFrameError(`${label}: length prefix longer than ${MAX_PREFIX_BYTES} bytes`))
          break
        }
        const limit = frames === 0 ? (options.maxFirstLength ?? maxLength) : maxLength
        if (len > limit)
          throw fail(new FrameTooLargeError(len, limit, `${label} of ${len} bytes is over the ${limit}-byte limit`))
        buffer.consume(i + 1)
        want = len
      }
      if (buffer.byteLength < want) break
      const frame = buffer.subarray(0, want)
      buffer.consume(want)
      want = -1
      frames++
      yield frame
    }
  }
  if (want >= 0 || buffer.byteLength > 0) throw fail(new MalformedFrameError(`${label}: stream ended inside a frame`))
}
