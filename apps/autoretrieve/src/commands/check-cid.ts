import { join } from 'node:path'
import { createBlockCache } from '@autoretrieve/blockcache'
import { loadConfig } from '@autoretrieve/config'
import { checkDag } from '@autoretrieve/dag'
import type { Command } from 'commander'
import { CID } from 'multiformats/cid'
import { UsageError } from '../errors.ts'
import type { FlagsGetter } from './index.ts'

export function checkCidCommand(program: Command, flags: FlagsGetter): void {
  program
    .command('check-cid <cid>')
    .description('walk the DAG in the local cache: size, blocks, complete or the first missing CID')
    .action(async (text: string) => {
      let root: CID
      try {
        root = CID.parse(text)
      } catch (cause) {
        throw new UsageError(`check-cid: "${text}" is not a CID`, { cause })
      }
      const { config } = await loadConfig({ flags: flags() })
      // Read-only: beside a running node it reads the log as it is now and writes nothing (a
      // writer's records land at the end of the log, so a second writer would overwrite them).
      const cache = createBlockCache({}, { path: join(config.dataDir, 'blockstore'), readOnly: true })
      await cache.start()
      try {
        const result = await checkDag(root, (cid) => cache.get(cid))
        process.stdout.write(`${JSON.stringify(result)}\n`)
        if (!result.complete) process.exitCode = 1
      } finally {
        await cache.stop()
      }
    })
}
