/** Bytes that are not a sequence of length-prefixed frames: a prefix over 10 bytes, or a stream ending inside a frame. */
export class MalformedFrameError extends Error {
  static override name = 'MalformedFrameError'
  override name = 'MalformedFrameError'
  readonly code = 'ERR_MALFORMED_FRAME'
}

/** A frame whose length prefix is over the caller's bound; refused before any of it is buffered. */
export class FrameTooLargeError extends Error {
  static override name = 'FrameTooLargeError'
  override name = 'FrameTooLargeError'
  readonly code = 'ERR_FRAME_TOO_LARGE'
  readonly length: number
  readonly maxLength: number
  constructor(length: number, maxLength: number, message: string) {
    super(message)
    this.length = length
    this.maxLength = maxLength
  }
}
