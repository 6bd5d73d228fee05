import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { createBlockCache } from '@autoretrieve/blockcache'
import { ensureAdminToken, loadConfig } from '@autoretrieve/config'
import type { Command } from 'commander'
import { importCar } from '../car-import.ts'
import { UsageError } from '../errors.ts'
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
      const running = await readRuntimeInfo(config.dataDir)
      const open = () => createReadStream(file).on('error', () => {})
      await assertReadable(file)
      let result: Awaited<ReturnType<typeof importCar>>
      if (running !== undefined) {
        // Hand it to the node, so peers waiting for these blocks get them at once.
        const token = await ensureAdminToken(config)
        const res = await fetch(`${running.adminUrl}/api/v1/cache/import`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/vnd.ipld.car' },
          body: Readable.toWeb(open()) as ReadableStream,
          duplex: 'half'
        } as RequestInit)
        const body = (await res.json()) as typeof result & { error?: { message: string } }
        if (!res.ok) throw new Error(`the running node refused ${file}: ${body.error?.message ?? res.status}`)
        result = body
      } else {
        const blocks = createBlockCache({}, { path: join(config.dataDir, 'blockstore') })
        await blocks.start()
        try {
          result = await importCar(blocks, open())
        } finally {
          await blocks.stop()
        }
      }
      process.stdout.write(`${JSON.stringify({ ...result, via: running ? 'node' : 'direct' })}\n`)
    })
}

async function assertReadable(file: string): Promise<void> {
  try {
    await access(file)
  } catch (cause) {
    throw new UsageError(`cannot read ${file}: ${(cause as NodeJS.ErrnoException).code}`, { cause })
  }
}
