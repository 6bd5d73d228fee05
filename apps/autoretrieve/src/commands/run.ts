import { loadConfig } from '@autoretrieve/config'
import type { Command } from 'commander'
import { createLogger } from '../logger.ts'
import { startNode } from '../node.ts'
import type { FlagsGetter } from './index.ts'

/** Graceful shutdown bound: past it the process exits anyway (issue: within 5 s). */
const SHUTDOWN_TIMEOUT_MS = 4_500

export function runCommand(program: Command, flags: FlagsGetter): void {
  program
    .command('run', { isDefault: true })
    .description('start the node (Bitswap over libp2p, retrieval, admin HTTP)')
    .action(async () => {
      const { config, configPath, created, warnings } = await loadConfig({ flags: flags() })
      const logger = createLogger({ format: config.logFormat })
      if (created) logger.info({ configPath }, 'wrote a default config.yaml')
      // Keys of earlier Go releases that do nothing here: one line each, naming the key.
      for (const w of warnings) logger.warn({ key: w.key, file: w.file, line: w.line }, w.message)
      const node = await startNode(config, {
        logger,
        reloadConfig: async () => (await loadConfig({ flags: flags(), createIfMissing: false })).config
      })

      let stopping = false
      const shutdown = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting now')
          process.exit(1)
        }
        stopping = true
        logger.info({ signal }, 'shutting down')
        const force = setTimeout(() => {
          logger.error('shutdown took too long; exiting')
          process.exit(1)
        }, SHUTDOWN_TIMEOUT_MS)
        force.unref()
        node
          .stop()
          .then(() => {
            logger.info('stopped')
            logger.flush?.()
            process.exit(0)
          })
          .catch((err: Error) => {
            logger.error({ err }, 'error while stopping')
            process.exit(1)
          })
      }
      process.on('SIGINT', shutdown)
      process.on('SIGTERM', shutdown)
    })
}
