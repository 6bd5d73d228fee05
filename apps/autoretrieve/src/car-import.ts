import { CarBlockIterator } from '@ipld/car/iterator'
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

/**
 * Streams a CAR into the cache block by block. Every block is verified against its CID by the
 * cache's put before it is stored, so a CAR with one bad block stops at that block with an error
 * naming it; the blocks before it stay (they are valid, and peers may be waiting for them).
 */
export async function importCar(
  cache: { put(cid: CID, bytes: Uint8Array, options?: { signal?: AbortSignal }): Promise<boolean> },
  source: AsyncIterable<Uint8Array>,
  options: { signal?: AbortSignal; isDenied?: (cid: CID) => boolean } = {}
): Promise<CarImportResult> {
  let iterator: CarBlockIterator
  try {
    iterator = await CarBlockIterator.fromIterable(source)
  } catch (cause) {
    throw new CarImportError(`not a CAR file: ${(cause as Error).message}`, { cause })
  }
  const result: CarImportResult = {
    roots: (await iterator.getRoots()).map(String),
    blocks: 0,
    added: 0,
    bytes: 0,
    denied: 0
  }
  try {
    for await (const { cid, bytes } of iterator) {
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
    throw new CarImportError(`CAR is truncated or malformed after ${result.blocks} blocks: ${(err as Error).message}`, {
      cause: err
    })
  }
  return result
}
