import { CarBlockTooLargeError, CarHeaderTooLargeError, type CarStream, readCar } from '@autoretrieve/dag'
import type { CID } from 'multiformats/cid'

export interface CarImportResult {
  roots: string[]
  blocks: number
  /** Blocks that were new to the cache (the rest were already there). */
  added: number
  bytes: number
  /** Blocks skipped, not stored, because their CID is on the deny list. */
  denied: number
}

export class CarImportError extends Error {
  static override name = 'CarImportError'
  override name = 'CarImportError'
  code = 'ERR_CAR_INVALID'
}

/** A CAR that breaks an ingest limit (a header over 64 KiB, a block over 2 MiB): refused before it is buffered; an ERR_CAR_INVALID (a 400 from the API). */
export class CarLimitError extends CarImportError {
  static override name = 'CarLimitError'
  override name = 'CarLimitError'
  /** `header_too_large` or `block_too_large`, as in retrieval records. */
  readonly errorClass: 'header_too_large' | 'block_too_large'
  constructor(errorClass: 'header_too_large' | 'block_too_large', message: string, options?: ErrorOptions) {
    super(message, options)
    this.errorClass = errorClass
  }
}

/**
 * Streams a CAR into the cache block by block, through the bounded CAR reader: a header over
 * 64 KiB or a block over 2 MiB (the ingest limits) stops the import with a CarLimitError before it
 * is buffered. Every block is verified against its CID by the cache's put before it is stored, so a CAR with one bad block stops at that block with an error
 * naming it; the blocks before it stay (they are valid, and peers may be waiting for them).
 */
export async function importCar(
  cache: { put(cid: CID, bytes: Uint8Array, options?: { signal?: AbortSignal }): Promise<boolean> },
  source: AsyncIterable<Uint8Array>,
  options: { signal?: AbortSignal; isDenied?: (cid: CID) => boolean } = {}
): Promise<CarImportResult> {
  let car: CarStream
  try {
    car = await readCar(source, { label: 'CAR' })
  } catch (cause) {
    if (cause instanceof CarHeaderTooLargeError)
      throw new CarLimitError('header_too_large', `not imported: ${cause.message}`, { cause })
    throw new CarImportError(`not a CAR file: ${(cause as Error).message}`, { cause })
  }
  const result: CarImportResult = { roots: car.roots.map(String), blocks: 0, added: 0, bytes: 0, denied: 0 }
  try {
    for await (const { cid, bytes } of car.blocks) {
      options.signal?.throwIfAborted()
      // A denied CID is never stored, whoever brings it (a cached copy is what the deny removes).
      if (options.isDenied?.(cid)) {
        result.denied++
        result.blocks++
        continue
      }
      try {
        if (await cache.put(cid, bytes, { signal: options.signal })) result.added++
      } catch (cause) {
        throw new CarImportError(`block ${result.blocks + 1} (${cid}) was refused: ${(cause as Error).message}`, {
          cause
        })
      }
      result.blocks++
      result.bytes += bytes.byteLength
    }
  } catch (err) {
    if (err instanceof CarImportError || (err as Error).name === 'AbortError') throw err
    if (err instanceof CarBlockTooLargeError)
      throw new CarLimitError('block_too_large', `stopped after ${result.blocks} blocks: ${err.message}`, {
        cause: err
      })
    throw new CarImportError(`CAR is truncated or malformed after ${result.blocks} blocks: ${(err as Error).message}`, {
      cause: err
    })
  }
  return result
}
