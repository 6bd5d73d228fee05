import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type Logger, multihashKey } from '@autoretrieve/interface'
import { base32, base32upper } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import type { BlockIndex } from './block-index.ts'
import type { BlockLog } from './log.ts'
import { type Appended, RecordKind } from './record.ts'
import { matches } from './verify.ts'

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

/** What became of one file: moved into the log, already there, left in place, or refused (does not hash to its key). */
type Moved = 'moved' | 'present' | 'left' | 'full' | 'corrupt' | 'unverifiable'

/**
 * Moves one block file into the log and removes it. With `verify`, the bytes are hashed against
 * the multihash first and a mismatch (or a hash this cache cannot check) is not imported.
 */
async function moveFile(
  components: LegacyImportComponents,
  file: string,
  multihash: Uint8Array,
  verify: boolean
): Promise<Moved> {
  const { log, index, logger } = components
  const key = multihashKey(multihash)
  if (index.has(key)) {
    // Landed before a crash, or served from the log already: the file is a leftover.
    await rm(file, { force: true })
    return 'present'
  }
  let bytes: Buffer
  let info: Awaited<ReturnType<typeof stat>>
  try {
    ;[bytes, info] = await Promise.all([readFile(file), stat(file)])
  } catch (err) {
    logger.warn({ err, file }, 'could not read an old block file; left where it is')
    return 'left'
  }
  if (verify) {
    try {
      // The raw codec stands in for whatever codec the block had: only the multihash is checked.
      if (!matches(CID.createV1(0x55, decodeMultihash(multihash)), bytes)) return 'corrupt'
    } catch {
      return 'unverifiable'
    }
  }
  let at: Appended
  try {
    at = await log.append(RecordKind.block, multihash, info.mtimeMs, bytes)
  } catch (err) {
    // A full disk, say: the rest stays where it is for the next start.
    logger.warn({ err, file }, 'could not move an old block file into the log; the rest stay for the next start')
    return 'full'
  }
  index.place(key, { ...at, size: bytes.byteLength, lastUsed: info.mtimeMs })
  await rm(file, { force: true })
  return 'moved'
}

/** The multihash bytes as a `MultihashDigest`, for a CID; throws on bytes that are not one. */
function decodeMultihash(bytes: Uint8Array) {
  return CID.decode(Uint8Array.of(0x01, 0x55, ...bytes)).multihash
}

/**
 * Moves a cache in the older layout, a file per block under `<path>/blocks/<shard>/<base32 of the
 * multihash>`, into the log (last use = the file's mtime), one file at a time, then removes the old
 * directories and `<path>/tmp`. A file whose name is not a key, or that cannot be read, is left
 * where it is; so is the rest when the log cannot take more (a full disk): the next start goes on.
 * Blocks are not hashed here: every read from disk is verified.
 */
export async function importFileLayout(components: LegacyImportComponents, path: string): Promise<void> {
  const blocksDir = join(path, 'blocks')
  let shards: string[]
  try {
    shards = await readdir(blocksDir)
  } catch {
    return
  }
  let moved = 0
  let left = 0
  outer: for (const shard of shards) {
    let names: string[] = []
    try {
      names = await readdir(join(blocksDir, shard))
    } catch {
      continue
    }
    for (const name of names) {
      const multihash = legacyFileMultihash(name)
      if (multihash === undefined) {
        left++
        continue
      }
      const result = await moveFile(components, join(blocksDir, shard, name), multihash, false)
      if (result === 'moved') moved++
      else if (result === 'left') left++
      else if (result === 'full') {
        left++
        break outer
      }
    }
  }
  if (left === 0) await rm(blocksDir, { recursive: true, force: true })
  await rm(join(path, 'tmp'), { recursive: true, force: true })
  components.logger.info({ moved, left }, 'moved the block cache from a file per block into the block log')
}

/** The shard functions go-ds-flatfs writes to its SHARDING file: `/repo/flatfs/shard/v1/<name>/<n>`. */
const SHARDING = /^\/repo\/flatfs\/shard\/v1\/(prefix|suffix|next-to-last)\/([1-9][0-9]?)$/
/** Where go-ds-flatfs writes its files besides the blocks (it recreates them; they mean nothing here). */
const FLATFS_FILES = ['diskUsage.cache', '_README']
/** Where blocks that do not hash to their key, or whose hash cannot be checked, are set aside. */
export const FLATFS_REJECTED_DIR = 'flatfs-rejected'
/** How often the migration says how far it got: every so many seconds or blocks, whichever comes first. */
const PROGRESS_EVERY_MS = 5_000
const PROGRESS_EVERY_BLOCKS = 1_000

/**
 * The multihash a go-ds-flatfs file names: `<KEY>.data`, where KEY is the datastore key that
 * go-ipfs-ds-help makes of a multihash (RFC 4648 base32, upper case, unpadded). Undefined for any
 * other name (flatfs's temporary files, say).
 */
export function flatfsFileMultihash(name: string): Uint8Array | undefined {
  if (!name.endsWith('.data')) return undefined
  const key = name.slice(0, -'.data'.length)
  if (!/^[A-Z2-7]+$/.test(key)) return undefined
  try {
    return base32upper.decode(`B${key}`)
  } catch {
    return undefined
  }
}

/**
 * Moves the Go autoretrieve's cache into the log: a go-ds-flatfs store in `path` itself (the Go
 * node's `<data-dir>/blockstore`, recognised by its SHARDING file). Every block is hashed against
 * the multihash its file is named by before it is appended; its file is removed once it is in the
 * log, so a crash loses nothing and the next start goes on where this one stopped (a file whose
 * block the log already holds is just removed). A file that does not hash to its name, or whose
 * hash this cache cannot check, is not imported: it is moved to `<path>/flatfs-rejected/` and
 * named in a warning. Progress is logged every few seconds; when no block file is left, the
 * SHARDING file and the shard directories go, so the next start does not look again.
 */
export async function importFlatfs(components: LegacyImportComponents, path: string): Promise<void> {
  const { logger } = components
  let sharding: string
  try {
    sharding = (await readFile(join(path, 'SHARDING'), 'utf8')).trim()
  } catch {
    return
  }
  const shape = SHARDING.exec(sharding)
  if (shape === null) {
    logger.warn(
      { file: join(path, 'SHARDING'), sharding },
      'a SHARDING file names a shard function go-ds-flatfs does not write; the old blocks are left alone'
    )
    return
  }
  const width = Number(shape[2])
  // Shard directories: `width` characters of the key's alphabet (`_` pads short keys).
  const shardName = new RegExp(`^[A-Z2-7_]{${width}}$`)
  const shards = (await readdir(path, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && shardName.test(e.name))
    .map((e) => e.name)
  // Counted first (for the progress lines), listed again shard by shard: a big cache's names
  // are not all held at once.
  let total = 0
  for (const shard of shards) total += (await readdir(join(path, shard)).catch(() => [] as string[])).length
  const counts = { moved: 0, present: 0, left: 0, corrupt: 0, unverifiable: 0 }
  logger.info({ path, blocks: total }, "moving the Go node's flatfs block cache into the block log")
  const started = Date.now()
  let lastReport = started
  let full = false
  let seen = 0
  outer: for (const shard of shards) {
    const names = await readdir(join(path, shard)).catch(() => [] as string[])
    for (const name of names) {
      const file = join(path, shard, name)
      const multihash = flatfsFileMultihash(name)
      if (multihash === undefined) {
        // flatfs's temporary files (`.temp…`) are the remains of puts it never finished.
        if (name.startsWith('.temp')) await rm(file, { force: true })
        else counts.left++
        continue
      }
      const result = await moveFile(components, file, multihash, true)
      if (result === 'full') {
        counts.left++
        full = true
        break outer
      }
      if (result === 'corrupt' || result === 'unverifiable') {
        const aside = join(path, FLATFS_REJECTED_DIR, name)
        await mkdir(join(path, FLATFS_REJECTED_DIR), { recursive: true })
        await rename(file, aside).catch(() => rm(file, { force: true }))
        logger.warn(
          { file: aside },
          result === 'corrupt'
            ? 'a flatfs block does not hash to its key; not imported, set aside'
            : 'a flatfs block uses a hash this cache cannot check; not imported, set aside'
        )
      }
      counts[result]++
      seen++
      if (seen % PROGRESS_EVERY_BLOCKS === 0 || Date.now() - lastReport >= PROGRESS_EVERY_MS) {
        lastReport = Date.now()
        logger.info({ ...counts, of: total }, 'moving the flatfs block cache: progress')
      }
    }
  }
  if (!full && counts.left === 0) {
    for (const shard of shards) await rm(join(path, shard), { recursive: true, force: true })
    for (const name of FLATFS_FILES) await rm(join(path, name), { force: true })
    // Last: while SHARDING is there, the next start looks for blocks again.
    await rm(join(path, 'SHARDING'), { force: true })
  }
  logger.info(
    { ...counts, ms: Date.now() - started, done: !full && counts.left === 0 },
    'moved the flatfs block cache into the block log'
  )
}
