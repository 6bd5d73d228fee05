import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { createBlockCache } from '@autoretrieve/blockcache'
import { type AutoretrieveConfig, ensureAdminToken, loadConfig } from '@autoretrieve/config'
import { isCidDenied, mergePolicy } from '@autoretrieve/policy'
import { createStore } from '@autoretrieve/store'
import type { Command } from 'commander'
import type { CID } from 'multiformats/cid'
import { importCar } from '../car-import.ts'
import { NodeUnreachableError, UsageError } from '../errors.ts'
import { configPolicy } from '../policy-service.ts'
import { readRuntimeInfo } from '../runtime-file.ts'
import type { FlagsGetter } from './index.ts'

export function cacheCommands(program: Command, flags: FlagsGetter): void {
  const cache = program.command('cache').description('manage the local block cache')
  cache
    .command('import <file>')
    .description(
      'verify a CAR file and put its blocks into the cache (through the running node, if one runs on this data dir)'
    )
    .action(async (file: string) => {
      const { config } = await loadConfig({ flags: flags() })
      const open = () => createReadStream(file).on('error', () => {})
      await assertReadable(file)
      // The cache has one writer. A node running on this data dir takes the CAR (its peers get
      // the blocks at once); one starting or stopping holds the cache's lock without being
      // reachable yet, so wait a little for it to come up or let go.
      const deadline = Date.now() + LOCKED_WAIT_MS
      for (;;) {
        const running = await readRuntimeInfo(config.dataDir)
        if (running !== undefined) {
          const result = await importViaNode(running.adminUrl, await ensureAdminToken(config), open(), file)
          process.stdout.write(`${JSON.stringify({ ...result, via: 'node' })}\n`)
          return
        }
        const blocks = createBlockCache({}, { path: join(config.dataDir, 'blockstore') })
        try {
          await blocks.start()
        } catch (err) {
          if ((err as { code?: string }).code !== 'ERR_LOCKED' || Date.now() > deadline) throw err
          await sleep(200)
          continue
        }
        try {
          const isDenied = await deniedCids(config)
          const result = await importCar(blocks, open(), { isDenied })
          process.stdout.write(`${JSON.stringify({ ...result, via: 'direct' })}\n`)
          return
        } finally {
          await blocks.stop()
        }
      }
    })
}

/** How long `cache import` waits for a node that holds the cache's lock to start or stop. */
const LOCKED_WAIT_MS = 30_000

/**
 * The deny list for an import made without the node: config.yaml's, merged with the database's
 * API changes when the database is PostgreSQL. The embedded database is not opened for this (it
 * takes seconds to start); CIDs denied through the API on it are removed by the node's start-up
 * sweep before it serves anything.
 */
async function deniedCids(config: AutoretrieveConfig): Promise<(cid: CID) => boolean> {
  const empty = { version: 0, entries: [], minerConfigs: [] }
  if (config.databaseUrl === '') {
    const snapshot = mergePolicy(configPolicy(config), empty)
    return (cid) => isCidDenied(snapshot, cid)
  }
  const store = await createStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  try {
    const snapshot = mergePolicy(configPolicy(config), await store.policy.load())
    return (cid) => isCidDenied(snapshot, cid)
  } finally {
    await store.close()
  }
}

async function importViaNode(adminUrl: string, token: string, car: NodeJS.ReadableStream, file: string) {
  let res: Response
  try {
    res = await fetch(`${adminUrl}/api/v1/cache/import`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/vnd.ipld.car' },
      body: Readable.toWeb(car as Readable) as ReadableStream,
      duplex: 'half'
    } as RequestInit)
  } catch (cause) {
    // The runtime file says a node runs on this data dir; it did not answer there.
    const why = (cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).message
    throw new NodeUnreachableError(
      `a node is running on this data dir, but its admin API at ${adminUrl} could not be reached (${why}); is it still starting, or stopped without removing its runtime file?`,
      { cause }
    )
  }
  const body = (await res.json()) as Awaited<ReturnType<typeof importCar>> & { error?: { message: string } }
  if (!res.ok) throw new Error(`the running node refused ${file}: ${body.error?.message ?? res.status}`)
  return body
}

async function assertReadable(file: string): Promise<void> {
  try {
    await access(file)
  } catch (cause) {
    throw new UsageError(`cannot read ${file}: ${(cause as NodeJS.ErrnoException).code}`, { cause })
  }
}
