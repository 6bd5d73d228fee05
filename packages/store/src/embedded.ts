import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import type { Logger } from '@autoretrieve/interface'
import { PGlite } from '@electric-sql/pglite'

/**
 * The embedded PostgreSQL (PGlite), opened lean. What the default costs and why each setting is
 * here is measured by `bench/footprint/steps.ts` (README, "The embedded database's footprint"):
 *
 * - V8 tier-up is turned off for WebAssembly. Left on, V8 recompiles PGlite's hottest functions
 *   with TurboFan in the background a few seconds after start; one of them (~100 KB of wasm, the
 *   size of a parser or executor loop) takes ~600 MiB of compiler memory for ~10 s. That one
 *   compile was half of the node's 1.2 GiB peak. Liftoff (the baseline compiler) runs our queries
 *   no slower in measurement: the node's database work is small batched writes and indexed reads.
 *   The flag is process-wide: every WebAssembly module in this process stays on Liftoff (the node
 *   has no other hot one; its crypto is node:crypto).
 * - PostgreSQL's buffers are sized for one embedded backend, not for a server: shared_buffers
 *   128 MB (initdb's default) made the Emscripten heap grow from its 128 MiB minimum to 189 MiB,
 *   and a buffer pool fills as tables are read, so the node's RSS would creep up to it.
 * - A first start loads a data directory made by initdb (`seed/pgdata.tar.gz`, made by
 *   `scripts/make-seed.ts` with this PGlite version) instead of running initdb, which starts a
 *   second PostgreSQL instance in the same process, copies its heap and dumps it as a tar:
 *   ~550 MiB above the running database, and most of the first start's time. The seed holds no
 *   migrations: they run after it is loaded, as on every start.
 * - `relaxedDurability` is not set: on a directory (Emscripten's NODEFS) every write already goes
 *   to the file system as PostgreSQL makes it, and the option only changes when PGlite's own
 *   in-memory file systems are flushed. `initialMemory` cannot go below the module's declared
 *   128 MiB (WebAssembly rejects a smaller memory); untouched pages of it cost no RSS.
 */
export const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  // The buffer pool: 16 MB is 2,048 pages, more than the working set of the node's indexes.
  shared_buffers: '16MB',
  // WAL written per commit before it goes to the file: batches of 500 records fit.
  wal_buffers: '1MB',
  // Only temporary tables use these; the node makes none.
  temp_buffers: '1MB',
  // Single-user mode runs one backend; each connection slot is shared memory sized at start.
  max_connections: '10'
}

/** The seed data directory shipped with the package, and the PGlite version that made it. */
export const SEED_FILE = fileURLToPath(new URL('../seed/pgdata.tar.gz', import.meta.url))
export const SEED_INFO_FILE = fileURLToPath(new URL('../seed/pgdata.json', import.meta.url))

export interface SeedInfo {
  pglite: string
}

/** The installed PGlite's version (its package.json is not exported, so it is read beside its entry). */
export async function pgliteVersion(): Promise<string> {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'))
  const pkg = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8'))
  return pkg.version
}

/** The start parameters: PGlite's own, then ours (later `-c` settings win). */
export function embeddedStartParams(): string[] {
  return [...PGlite.defaultStartParams, ...Object.entries(EMBEDDED_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])]
}

let tierUpOff = false
/** See above: before PGlite's module is compiled, and once per process. */
function turnOffWasmTierUp(): void {
  if (tierUpOff) return
  tierUpOff = true
  // Both are needed when set at run time: --liftoff-only's implications are applied only at V8's start.
  setFlagsFromString('--no-wasm-dynamic-tiering')
  setFlagsFromString('--no-wasm-tier-up')
}

/**
 * The seed to load into `dir`, or undefined: none for a directory that holds a database already,
 * and none (initdb runs, a warning says why) when the seed was made by another PGlite version.
 */
async function seedFor(dir: string | undefined, seedFile: string, logger?: Logger): Promise<Blob | undefined> {
  if (dir && existsSync(join(dir, 'PG_VERSION'))) return undefined
  let info: SeedInfo
  try {
    info = JSON.parse(await readFile(seedFile.replace(/\.tar\.gz$/, '.json'), 'utf8'))
  } catch (err) {
    logger?.warn({ err, seedFile }, 'no seed data directory: the first start runs initdb')
    return undefined
  }
  const installed = await pgliteVersion()
  if (info.pglite !== installed) {
    logger?.warn(
      { seed: info.pglite, installed, seedFile },
      'the seed data directory was made by another PGlite version: the first start runs initdb ' +
        '(run `pnpm --filter @autoretrieve/store make-seed`)'
    )
    return undefined
  }
  return new Blob([await readFile(seedFile)])
}

export interface OpenEmbeddedInit {
  /** The database directory; undefined: in memory. */
  dir?: string
  logger?: Logger
  /** For tests: another seed (a .tar.gz with its .json beside it). */
  seedFile?: string
}

interface Shared {
  pglite: Promise<PGlite>
  refs: number
}
/** One PGlite per directory per process: two instances on one directory would both write its files. */
const shared = new Map<string, Shared>()

/** A handle on the process's PGlite for `dir`; `release()` closes it when the last holder lets go. */
export interface EmbeddedHandle {
  pglite: PGlite
  release(): Promise<void>
}

/** Opens (or joins) the embedded database; it is ready when this resolves. */
export async function openEmbedded(init: OpenEmbeddedInit): Promise<EmbeddedHandle> {
  const key = init.dir ? resolve(init.dir) : undefined
  if (key) {
    const existing = shared.get(key)
    if (existing) {
      existing.refs++
      try {
        return handle(await existing.pglite, key)
      } catch (err) {
        existing.refs--
        throw err
      }
    }
  }
  const opening = start(init)
  if (key) {
    const entry: Shared = { pglite: opening, refs: 1 }
    shared.set(key, entry)
    opening.catch(() => {
      if (shared.get(key) === entry) shared.delete(key)
    })
  }
  return handle(await opening, key)
}

function handle(pglite: PGlite, key: string | undefined): EmbeddedHandle {
  let released = false
  return {
    pglite,
    async release() {
      if (released) return
      released = true
      const entry = key ? shared.get(key) : undefined
      if (entry && --entry.refs > 0) return
      if (key) shared.delete(key)
      await pglite.close()
    }
  }
}

async function start(init: OpenEmbeddedInit): Promise<PGlite> {
  turnOffWasmTierUp()
  const loadDataDir = await seedFor(init.dir, init.seedFile ?? SEED_FILE, init.logger)
  const pglite = new PGlite(init.dir, { startParams: embeddedStartParams(), loadDataDir })
  try {
    await pglite.waitReady
  } catch (err) {
    await pglite.close().catch(() => {})
    throw err
  }
  return pglite
}
