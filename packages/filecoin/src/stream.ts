// Reading `/fil/datatransfer/1.2.0` streams: consecutive DAG-CBOR TransferMessages with no length
// prefix (go-data-transfer writes one a stream and closes it; a reader loops until EOF).
import { decodeDagCbor } from '@autoretrieve/graphsync'
import { cborExtent, newExtentState } from './cbor-extent.ts'
import { DEFAULT_MAX_MESSAGE_BYTES } from './constants.ts'
import { MalformedTransferMessageError, TruncatedTransferMessageError } from './errors.ts'
import { type TransferMessage, transferMessageFromNode } from './message.ts'

/** A Uint8ArrayList or anything else whose `subarray()` gives its bytes. */
export interface ByteListLike {
  subarray(): Uint8Array
}

export interface ReadTransferMessagesOptions {
  /**
   * Largest message buffered before giving up with TransferMessageTooLargeError.
   * @default 4194304 (DEFAULT_MAX_MESSAGE_BYTES, 4 MiB)
   */
  maxMessageBytes?: number
  /** Stops reading: the iterator throws the signal's reason and ends the source. */
  signal?: AbortSignal
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

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason)
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

/**
 * Decodes the TransferMessages of a `/fil/datatransfer/1.2.0` stream as they complete, buffering
 * values split across chunks. Throws MalformedTransferMessageError for a value that is not a
 * TransferMessage, TransferMessageTooLargeError past `maxMessageBytes`, and
 * TruncatedTransferMessageError when the stream ends inside a value.
 */
export async function* readTransferMessages(
  source: AsyncIterable<Uint8Array | ByteListLike>,
  options: ReadTransferMessagesOptions = {}
): AsyncGenerator<TransferMessage, void, undefined> {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  if (!Number.isSafeInteger(max) || max <= 0)
    throw new RangeError(`maxMessageBytes must be a positive integer, not ${max}`)
  const { signal } = options
  signal?.throwIfAborted()
  const onAbort = signal === undefined ? undefined : aborted(signal)
  onAbort?.catch(() => {}) // observed through the race below
  const iterator = source[Symbol.asyncIterator]()
  const buffer = new ByteBuffer()
  let state = newExtentState()
  let done = false
  try {
    while (true) {
      const next = await (onAbort === undefined ? iterator.next() : Promise.race([iterator.next(), onAbort]))
      if (next.done === true) break
      buffer.append(next.value instanceof Uint8Array ? next.value : next.value.subarray())
      while (buffer.view.length > 0) {
        const end = cborExtent(buffer.view, state, max)
        if (end === undefined) break
        // A copy: decoded byte strings may be views of what they were decoded from.
        const message = decodeValue(buffer.view.slice(0, end))
        buffer.consume(end)
        state = newExtentState()
        yield message
        signal?.throwIfAborted()
      }
    }
    done = true
    if (buffer.view.length > 0) {
      throw new TruncatedTransferMessageError(
        `the stream ended ${buffer.view.length} bytes into a data-transfer message`
      )
    }
  } finally {
    // Not awaited: after an abort the source may still be inside a pending next().
    if (!done) Promise.resolve(iterator.return?.()).catch(() => {})
  }
}
