import { ConfigError, type ConfigFlags } from '@autoretrieve/config'
import { Command, CommanderError, Option } from 'commander'
import { registerCommands } from './commands/index.ts'

/**
 * The `autoretrieve` command line. Exit codes: 0 success, 1 runtime failure, 2 bad usage or
 * invalid config. Every error is one line naming what was wrong and where.
 */
const program = new Command('autoretrieve')
  .description('An edge node that makes Filecoin data reachable from IPFS over Bitswap')
  .addOption(new Option('--data-dir <dir>', 'data directory (default ~/.autoretrieve)'))
  .addOption(new Option('--lookup-endpoint-url <url>', 'indexer or Estuary candidates endpoint'))
  .addOption(new Option('--lookup-endpoint-type <type>', 'indexer or estuary'))
  .addOption(new Option('--disable-retrieval', 'serve only what is cached'))
  .addOption(new Option('--routing-table-type <type>', 'dht, full or disabled'))
  .addOption(new Option('--log-resource-manager', 'log libp2p resource usage'))
  .addOption(new Option('--database-url <url>', 'PostgreSQL URL (empty: embedded database in <data-dir>/db)'))
  .addOption(new Option('--admin-listen <host:port>', 'admin HTTP listen address (default 127.0.0.1:8080)'))
  .addOption(
    new Option(
      '--gateway-listen <host:port>',
      'public trustless gateway listen address; empty turns it off (default 0.0.0.0:8081)'
    )
  )
  .addOption(
    // Repeatable rather than variadic, so `--listen X run` does not swallow the command name.
    new Option('--listen <multiaddr>', 'libp2p listen address (repeatable)').argParser(
      (value: string, previous?: string[]) => [...(previous ?? []), value]
    )
  )
  .addOption(new Option('--log-format <format>', 'auto (readable on a terminal, JSON otherwise), pretty or json'))
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })

export function globalFlags(): ConfigFlags {
  const o = program.opts()
  return {
    dataDir: o.dataDir,
    lookupEndpointUrl: o.lookupEndpointUrl,
    lookupEndpointType: o.lookupEndpointType,
    disableRetrieval: o.disableRetrieval,
    routingTableType: o.routingTableType,
    logResourceManager: o.logResourceManager,
    databaseUrl: o.databaseUrl,
    adminListen: o.adminListen,
    listen: o.listen,
    gatewayListen: o.gatewayListen,
    logFormat: o.logFormat
  }
}

registerCommands(program, globalFlags)

function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return 2
  const code = (err as { code?: string })?.code
  if (code === 'ERR_USAGE' || code === 'ERR_CONFIG_EXISTS') return 2
  return 1
}

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its message; help and version are not failures.
    process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2)
  }
  process.stderr.write(`autoretrieve: ${(err as Error).message}\n`)
  if (process.env.AUTORETRIEVE_DEBUG) process.stderr.write(`${(err as Error).stack}\n`)
  process.exit(exitCodeFor(err))
}
