import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type Logger, multihashKey } from '@autoretrieve/interface'
import { base32 } from 'multiformats/bases/base32'
import type { BlockIndex } from './block-index.ts'
import type { BlockLog } from './log.ts'
import { type Appended, RecordKind } from './record.ts'

export interface LegacyImportComponents {
  log: Pick<BlockLog, 'append'>
  index: BlockIndex
  logger: Logger
}

/**
 * The multihash a file of the older layout is named by: base32 (RFC 4648, lower case, no
 * padding) without the multibase prefix, as that layout wrote them. Undefined for a file whose
 * name is not one.
 */
export function legacyFileMultihash(name: string): Uint8Array | undefined {
  try {
    return base32.decode(`b${name}`)
  } catch {
    return undefined
  }
}

/**
 * Moves a cache in the older layout, a file per block under `<path>/blocks/<shard>/<base32 of the
 * multihash>`, into the log (last use = the file's mtime), one file at a time, then removes the old
 * directories and `<path>/tmp`. A file whose name is not a key, or that cannot be read, is left
 * where it is; so is the rest when the log cannot take more (a full disk): the next start goes on.
 * Blocks are not hashed here: every read from disk is verified.
 */
export async function importFileLayout(components: LegacyImportComponents, path: string): Promise<void> {
  const { log, index, logger } = components
  const blocksDir = join(path, 'blocks')
  let shards: string[]
  try {
    shards = await readdir(blocksDir)
  } catch {
    return
  }
  let moved = 0
  let left = 0
  for (const shard of shards) {
    let names: string[] = []
    try {
      names = await readdir(join(blocksDir, shard))
    } catch {
      continue
    }
    for (const name of names) {
      const file = join(blocksDir, shard, name)
      const multihash = legacyFileMultihash(name)
      if (multihash === undefined) {
        left++
        continue
      }
      const key = multihashKey(multihash)
      if (index.has(key)) {
        await rm(file, { force: true })
        continue
      }
      let bytes: Buffer
      let info: Awaited<ReturnType<typeof stat>>
      try {
        ;[bytes, info] = await Promise.all([readFile(file), stat(file)])
      } catch (err) {
        logger.warn({ err, file }, 'could not read a block file of the older layout; left where it is')
        left++
        continue
      }
      let at: Appended
      try {
        at = await log.append(RecordKind.block, multihash, info.mtimeMs, bytes)
      } catch (err) {
        // A full disk, say: the rest stays where it is for the next start, and this one goes on.
        logger.warn(
          { err, moved },
          'could not move the older block files into the log; the rest stay for the next start'
        )
        left++
        break
      }
      index.place(key, { ...at, size: bytes.byteLength, lastUsed: info.mtimeMs })
      await rm(file, { force: true })
      moved++
    }
  }
  if (left === 0) await rm(blocksDir, { recursive: true, force: true })
  await rm(join(path, 'tmp'), { recursive: true, force: true })
  logger.info({ moved, left }, 'moved the block cache from a file per block into the block log')
}
