// Reading `/fil/datatransfer/1.2.0` streams: consecutive DAG-CBOR TransferMessages with no length
// prefix (go-data-transfer writes one a stream and closes it; a reader loops until EOF;
// data-transfer.md §1). Not @autoretrieve/frames: there is no varint frame to read, so where one
// value ends is found by walking its CBOR headers (cbor-extent.ts), bounded the same way.
import { decodeDagCbor } from '@autoretrieve/graphsync'
import type { AbortOptions } from '@autoretrieve/interface'
import { cborExtent, newExtentState } from './cbor-extent.ts'
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MESSAGE_TIMEOUT_MS } from './constants.ts'
import { MalformedTransferMessageError, TransferReadTimeoutError, TruncatedTransferMessageError } from './errors.ts'
import { type TransferMessage, transferMessageFromNode } from './message.ts'

/** A Uint8ArrayList or anything else whose `subarray()` gives its bytes. */
export interface ByteListLike {
  subarray(): Uint8Array
}

/** `signal` stops reading: the iterator throws the signal's reason and ends the source. */
export interface ReadTransferMessagesOptions extends AbortOptions {
  /**
   * Largest message buffered before giving up with TransferMessageTooLargeError.
   * @default 4194304 (DEFAULT_MAX_MESSAGE_BYTES, 4 MiB)
   */
  maxMessageBytes?: number
  /**
   * Longest wait for one message, from the end of the previous one (or the start) until its last
   * byte; past it the iterator throws TransferReadTimeoutError. `Infinity` disables it.
   * @default 10000 (DEFAULT_MESSAGE_TIMEOUT_MS)
   */
  messageTimeoutMs?: number
}

/** A buffer that grows by doubling, so appending byte-sized chunks stays linear. */
class ByteBuffer {
  #bytes = new Uint8Array(1024)
  #length = 0

  get view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length)
  }

  append(chunk: Uint8Array): void {
    if (this.#length + chunk.length > this.#bytes.length) {
      let size = this.#bytes.length * 2
      while (size < this.#length + chunk.length) size *= 2
      const grown = new Uint8Array(size)
      grown.set(this.view)
      this.#bytes = grown
    }
    this.#bytes.set(chunk, this.#length)
    this.#length += chunk.length
  }

  /** Drops the first `n` bytes. */
  consume(n: number): void {
    this.#bytes.copyWithin(0, n, this.#length)
    this.#length -= n
  }
}

function decodeValue(bytes: Uint8Array): TransferMessage {
  let value: unknown
  try {
    value = decodeDagCbor(bytes)
  } catch (cause) {
    throw new MalformedTransferMessageError(`TransferMessage: not DAG-CBOR: ${(cause as Error).message}`, { cause })
  }
  return transferMessageFromNode(value)
}

/**
 * Decodes the TransferMessages of a `/fil/datatransfer/1.2.0` stream as they complete, buffering
 * values split across chunks. Throws MalformedTransferMessageError for a value that is not a
 * TransferMessage, TransferMessageTooLargeError past `maxMessageBytes`,
 * TransferReadTimeoutError past `messageTimeoutMs`, and TruncatedTransferMessageError when the
 * stream ends inside a value. Breaking out of the loop, an abort or an error ends the source.
 */
export async function* readTransferMessages(
  source: AsyncIterable<Uint8Array | ByteListLike>,
  options: ReadTransferMessagesOptions = {}
): AsyncGenerator<TransferMessage, void, undefined> {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new RangeError(`maxMessageBytes must be a positive integer, not ${max}`)
  }
  const timeoutMs = options.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS
  if (!(timeoutMs > 0)) throw new RangeError(`messageTimeoutMs must be positive, not ${timeoutMs}`)
  const { signal } = options
  signal?.throwIfAborted()

  // One promise that rejects on abort or when a message takes too long; raced with each read.
  let interrupt: (reason: unknown) => void = () => {}
  const interrupted = new Promise<never>((_resolve, reject) => {
    interrupt = reject
  })
  interrupted.catch(() => {}) // observed through the race below
  const onAbort = () => interrupt(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  let timer: ReturnType<typeof setTimeout> | undefined
  const startDeadline = () => {
    if (!Number.isFinite(timeoutMs)) return
    timer = setTimeout(
      () =>
        interrupt(new TransferReadTimeoutError(`timed out after ${timeoutMs} ms waiting for a data-transfer message`)),
      timeoutMs
    )
  }

  const iterator = source[Symbol.asyncIterator]()
  const buffer = new ByteBuffer()
  let state = newExtentState()
  let done = false
  try {
    startDeadline()
    while (true) {
      const next = await Promise.race([iterator.next(), interrupted])
      if (next.done === true) break
      buffer.append(next.value instanceof Uint8Array ? next.value : next.value.subarray())
      while (buffer.view.length > 0) {
        const end = cborExtent(buffer.view, state, max)
        if (end === undefined) break
        // A copy: decoded byte strings may be views of what they were decoded from.
        const message = decodeValue(buffer.view.slice(0, end))
        buffer.consume(end)
        state = newExtentState()
        clearTimeout(timer) // the consumer's time is not the peer's
        yield message
        signal?.throwIfAborted()
        startDeadline()
      }
    }
    done = true
    if (buffer.view.length > 0) {
      throw new TruncatedTransferMessageError(
        `the stream ended ${buffer.view.length} bytes into a data-transfer message`
      )
    }
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
    // Not awaited: after an abort or a timeout the source may still be inside a pending next().
    if (!done) Promise.resolve(iterator.return?.()).catch(() => {})
  }
}
