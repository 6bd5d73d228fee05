import { join } from 'node:path'
import { defaultConfigYaml, loadConfig, renderConfigYaml, resolveDataDir, writeConfigYaml } from '@autoretrieve/config'
import type { Command } from 'commander'
import type { FlagsGetter } from './index.ts'

export function configCommands(program: Command, flags: FlagsGetter): void {
  program
    .command('gen-config')
    .description('write the default config.yaml into the data dir')
    .option('--force', 'overwrite an existing config.yaml')
    .option('--stdout', 'print it instead of writing it')
    .action(async (opts: { force?: boolean; stdout?: boolean }) => {
      const text = defaultConfigYaml()
      if (opts.stdout) {
        process.stdout.write(text)
        return
      }
      const path = join(resolveDataDir(flags()), 'config.yaml')
      await writeConfigYaml(path, text, { force: opts.force })
      process.stderr.write(`wrote ${path}\n`)
    })

  program
    .command('print-config')
    .description('print the effective config (YAML < environment < flags), secrets redacted')
    .action(async () => {
      const { config, warnings } = await loadConfig({ flags: flags(), createIfMissing: false })
      // Keys of earlier Go releases that do nothing here, as `run` logs them: one line each.
      for (const w of warnings) process.stderr.write(`warning: ${w.message}\n`)
      process.stdout.write(renderConfigYaml(config, { redact: true }))
    })
}
