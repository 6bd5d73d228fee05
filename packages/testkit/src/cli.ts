import { readFile } from 'node:fs/promises'
import { parseFil } from '@autoretrieve/chain'
import { Command, InvalidArgumentError, Option } from 'commander'
import type { QueryMode } from './boost-graphsync.ts'
import { type EstuaryFault, startEstuary } from './estuary.ts'
import { startIndexer } from './indexer.ts'
import { startLotus } from './lotus.ts'
import { type ProviderFault, type ProviderProtocol, startProvider } from './provider.ts'

/**
 * `autoretrieve-testkit provider|indexer|estuary|lotus`: each prints one JSON line describing where it
 * listens (on 127.0.0.1) and serves until SIGINT/SIGTERM.
 */
const program = new Command('autoretrieve-testkit').description(
  'local stand-ins for storage providers, IPNI, Estuary and Lotus'
)

function serveUntilSignal(close: () => Promise<unknown>) {
  const stop = () => {
    close().finally(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

program
  .command('provider')
  .description('a storage provider serving CAR files over trustless HTTP, Bitswap and Graphsync (data-transfer)')
  .requiredOption('--car <file...>', 'CAR file(s) whose DAGs it serves')
  .addOption(
    new Option('--protocols <list>', 'comma separated: http,bitswap,graphsync').default('http,bitswap,graphsync')
  )
  .option('--libp2p-port <port>', 'libp2p TCP port', '0')
  .option('--http-port <port>', 'HTTP port', '0')
  .option(
    '--fault <fault>',
    'none|wrong-block|truncate|reject|too-many-deals|status404|status500|slow:<bytes/s>|delay:<ms>|huge-block|huge-header|hang|trailing-junk',
    'none'
  )
  .option('--price-per-byte <attoFIL>', 'graphsync: MinPricePerByte its query answer asks', '0')
  .option('--unseal-price <attoFIL>', 'graphsync: UnsealPrice its query answer asks', '0')
  .addOption(
    new Option('--query <mode>', 'graphsync: how it answers /fil/retrieval/qry/1.0.0')
      .choices(['answer', 'unavailable', 'error', 'hang', 'none'])
      .default('answer')
  )
  .action(async (opts) => {
    const p = await startProvider({
      ask: {
        pricePerByte: BigInt(opts.pricePerByte),
        unsealPrice: BigInt(opts.unsealPrice),
        queryMode: opts.query as QueryMode
      },
      cars: opts.car,
      protocols: String(opts.protocols).split(',') as ProviderProtocol[],
      fault: opts.fault as ProviderFault,
      libp2pPort: Number(opts.libp2pPort),
      httpPort: Number(opts.httpPort)
    })
    process.stdout.write(
      `${JSON.stringify({ peerId: p.peerId, multiaddrs: p.multiaddrs, httpUrl: p.httpUrl, httpMultiaddr: p.httpMultiaddr })}\n`
    )
    serveUntilSignal(() => p.close())
  })

program
  .command('indexer')
  .description('an IPNI indexer answering /cid, /multihash and /routing/v1/providers from a file')
  .requiredOption('--providers <file>', 'JSON list of {peerId, addrs, protocols, cids?}')
  .option('--port <port>', 'HTTP port', '0')
  .action(async (opts) => {
    const providers = JSON.parse(await readFile(opts.providers, 'utf8'))
    const indexer = await startIndexer({ port: Number(opts.port), providers })
    process.stdout.write(`${JSON.stringify({ url: indexer.url })}\n`)
    serveUntilSignal(() => indexer.close())
  })

program
  .command('estuary')
  .description('an Estuary: autoretrieve registration and heartbeat, retrieval candidates')
  .option('--port <port>', 'HTTP port', '0')
  .option('--admin-token <token>', 'admin API key registration needs', 'EST-testkit-admin-ARY')
  .option('--advertise-interval <duration>', 'advertiseInterval it answers (Go duration)', '1m0s')
  .option('--candidates <file>', 'JSON map of CID to [{miner, rootCid, dealId}]')
  .option('--fault <fault>', 'none|status500|status401|garbage|delay:<ms>', 'none')
  .action(async (opts) => {
    const candidates = opts.candidates ? JSON.parse(await readFile(opts.candidates, 'utf8')) : undefined
    const estuary = await startEstuary({
      port: Number(opts.port),
      adminToken: opts.adminToken,
      advertiseInterval: opts.advertiseInterval,
      candidates
    })
    estuary.setFault(opts.fault as EstuaryFault)
    process.stdout.write(`${JSON.stringify({ url: estuary.url, adminToken: estuary.adminToken })}\n`)
    serveUntilSignal(() => estuary.close())
  })

const count = (what: string) => (value: string) => {
  if (!/^[0-9]{1,15}$/.test(value))
    throw new InvalidArgumentError(`${what} must be a whole number, got ${JSON.stringify(value)}`)
  return Number(value)
}

const amount = (value: string) => {
  try {
    return parseFil(value)
  } catch (cause) {
    throw new InvalidArgumentError((cause as Error).message)
  }
}

program
  .command('lotus')
  .description(
    'a Lotus full node JSON-RPC: balances (every address starts funded), mpool, payment channels, StateMinerInfo'
  )
  .option('--miners <file>', 'JSON map of f0… address to {peerId, multiaddrs} for StateMinerInfo')
  .option('--port <port>', 'HTTP port', count('--port'), 0)
  .option('--token <token>', 'require `Authorization: Bearer <token>` (FULLNODE_API_INFO then carries it)')
  .addOption(
    new Option('--initial-balance <amount>', 'what every address starts with ("100 FIL", or attoFIL)')
      .argParser(amount)
      .default(parseFil('100 FIL'), '100 FIL')
  )
  .option('--epoch-ms <ms>', 'milliseconds per epoch; 0 = the chain never advances', count('--epoch-ms'), 100)
  .option('--settle-delay-epochs <n>', 'epochs from a paych Settle until Collect', count('--settle-delay-epochs'), 1440)
  .action(async (opts) => {
    const miners = opts.miners === undefined ? {} : JSON.parse(await readFile(opts.miners, 'utf8'))
    const lotus = await startLotus({
      port: opts.port,
      miners,
      token: opts.token,
      initialBalance: opts.initialBalance,
      epochMs: opts.epochMs,
      settleDelayEpochs: BigInt(opts.settleDelayEpochs)
    })
    process.stdout.write(`${JSON.stringify({ url: lotus.url, apiInfo: lotus.apiInfo })}\n`)
    serveUntilSignal(() => lotus.close())
  })

await program.parseAsync(process.argv)
