import { FrameTooLargeError, type MalformedFrameError, readFrames } from '@autoretrieve/frames'
import { MAX_CAR_HEADER_BYTES, MAX_CAR_SECTION_BYTES } from '@autoretrieve/interface'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'

/** A CAR whose bytes are not a CARv1: a header that does not decode, a section without a CID, a stream that ends inside a section. */
export class MalformedCarError extends Error {
  static override name = 'MalformedCarError'
  override name = 'MalformedCarError'
  readonly code = 'ERR_MALFORMED_CAR'
}

/** A CAR header whose length prefix is over the cap: refused before any of it is buffered. */
export class CarHeaderTooLargeError extends Error {
  static override name = 'CarHeaderTooLargeError'
  override name = 'CarHeaderTooLargeError'
  readonly code = 'ERR_CAR_HEADER_TOO_LARGE'
}

/** A CAR section (CID + block) whose length prefix is over the limit: refused before any of it is buffered. */
export class CarBlockTooLargeError extends Error {
  static override name = 'CarBlockTooLargeError'
  override name = 'CarBlockTooLargeError'
  readonly code = 'ERR_CAR_BLOCK_TOO_LARGE'
  /** Blocks read before this one. */
  readonly index: number
  constructor(message: string, index: number) {
    super(message)
    this.index = index
  }
}

export interface ReadCarOptions {
  /** @default MAX_CAR_HEADER_BYTES (64 KiB) */
  maxHeaderBytes?: number
  /** The largest section (CID + block bytes). @default MAX_CAR_SECTION_BYTES (2 MiB + 256) */
  maxSectionBytes?: number
  /** Names the source in error messages (a URL, a file). */
  label?: string
}

export interface CarStream {
  roots: CID[]
  /** The blocks in stream order; the CIDs are as the CAR states them, not checked against the bytes. */
  blocks: AsyncGenerator<{ cid: CID; bytes: Uint8Array }>
}

/**
 * Reads a CARv1 stream, bounded: the header and each section are length-prefixed frames, and one
 * whose prefix is over its limit is refused as soon as the prefix is read (CarHeaderTooLargeError,
 * CarBlockTooLargeError), so a provider that claims a 1 GiB block costs the node nothing. At most
 * one section plus one chunk is held. Reads lazily: a caller that stops iterating (the DAG is
 * complete) reads no further, and junk after that point is never seen.
 */
export async function readCar(source: AsyncIterable<Uint8Array>, options: ReadCarOptions = {}): Promise<CarStream> {
  const label = options.label ?? 'CAR'
  const maxHeader = options.maxHeaderBytes ?? MAX_CAR_HEADER_BYTES
  const maxSection = options.maxSectionBytes ?? MAX_CAR_SECTION_BYTES
  let frames = 0
  const iterator = readFrames(source, {
    maxLength: maxSection,
    maxFirstLength: maxHeader,
    label,
    mapError: (err) => {
      if (err instanceof FrameTooLargeError) {
        return frames === 0
          ? new CarHeaderTooLargeError(
              `${label}: header of ${err.length} bytes is over the ${err.maxLength}-byte CAR header limit`
            )
          : new CarBlockTooLargeError(
              `${label}: block ${frames} claims ${err.length} bytes, over the ${err.maxLength}-byte block limit`,
              frames - 1
            )
      }
      const where = frames === 0 ? 'in the header' : `after ${frames - 1} blocks`
      return new MalformedCarError(`${label}: ${(err as MalformedFrameError).message} (${where})`)
    }
  })[Symbol.asyncIterator]()

  const first = await iterator.next()
  if (first.done) throw new MalformedCarError(`${label}: empty stream, no CAR header`)
  frames++
  const roots = decodeHeader(first.value, label)

  async function* blocks(): AsyncGenerator<{ cid: CID; bytes: Uint8Array }> {
    try {
      while (true) {
        const next = await iterator.next()
        if (next.done) return
        frames++
        let cid: CID
        let bytes: Uint8Array
        try {
          ;[cid, bytes] = CID.decodeFirst(next.value)
        } catch (cause) {
          throw new MalformedCarError(`${label}: block ${frames - 1} has no valid CID: ${(cause as Error).message}`, {
            cause
          })
        }
        yield { cid, bytes }
      }
    } finally {
      await iterator.return?.(undefined)
    }
  }
  return { roots, blocks: blocks() }
}

function decodeHeader(bytes: Uint8Array, label: string): CID[] {
  let header: unknown
  try {
    header = dagCbor.decode(bytes)
  } catch (cause) {
    throw new MalformedCarError(`${label}: the header is not DAG-CBOR: ${(cause as Error).message}`, { cause })
  }
  const h = header as { version?: unknown; roots?: unknown } | null
  if (typeof h !== 'object' || h === null || h.version !== 1) {
    throw new MalformedCarError(`${label}: not a CARv1 header (version ${String(h?.version)})`)
  }
  if (!Array.isArray(h.roots) || !h.roots.every((r) => CID.asCID(r) !== null)) {
    throw new MalformedCarError(`${label}: the header's roots are not a list of CIDs`)
  }
  return h.roots.map((r) => CID.asCID(r)!)
}
