import { loadConfig } from '@autoretrieve/config'
import { createPaychManager, type PaychManager } from '@autoretrieve/paych'
import { createStore } from '@autoretrieve/store'
import { openWallet } from '@autoretrieve/wallet'
import type { Command } from 'commander'
import { UsageError } from '../errors.ts'
import { paymentsLotus } from '../payments.ts'
import { readRuntimeInfo } from '../runtime-file.ts'
import type { FlagsGetter } from './index.ts'
import { addressArg, stderrLogger } from './wallet.ts'

/**
 * The manager over the data dir's database and wallet, for one command. The embedded database
 * belongs to a node running on the data dir (two processes on one PGlite directory corrupt it):
 * then the command refuses, saying so; with PostgreSQL it runs beside the node.
 */
async function withManager<T>(flags: FlagsGetter, fn: (m: PaychManager) => Promise<T>): Promise<T> {
  const { config } = await loadConfig({ flags: flags() })
  if (config.databaseUrl === '' && (await readRuntimeInfo(config.dataDir)) !== undefined)
    throw new UsageError(
      `a node is running on ${config.dataDir} with the embedded database, which one process at a time may open: stop it first (or use database-url with PostgreSQL)`
    )
  const store = await createStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  try {
    const { lotus, url } = paymentsLotus(config)
    const manager = createPaychManager({
      repository: store.paych,
      lotus,
      lotusUrl: url,
      wallet: await openWallet(config.dataDir, { logger: stderrLogger }),
      maxSpendPerDay: config.maxSpendPerDay,
      minAvailable: config.paychMinAvailable,
      fundAmount: config.paychFundAmount
    })
    return await fn(manager)
  } finally {
    await store.close()
  }
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`)

export function paychCommands(program: Command, flags: FlagsGetter): void {
  const paych = program.command('paych').description('the payment channels this node opened to pay providers')

  paych
    .command('list')
    .description('every channel: balance (from Lotus), paid, lanes, settling epoch; as JSON')
    .action(async () => {
      print(await withManager(flags, (m) => m.list()))
    })

  paych
    .command('settle <channel>')
    .description('send Settle: after the settle delay (~12 h on mainnet) `paych collect` pays out')
    .action(async (text: string) => {
      const channel = addressArg('paych settle', text)
      const { settlingAt } = await withManager(flags, (m) => m.settle(channel))
      print({ channel, settlingAt })
      process.stderr.write(`settling: \`autoretrieve paych collect ${channel}\` from epoch ${settlingAt}\n`)
    })

  paych
    .command('collect <channel>')
    .description('send Collect once the settle delay has passed: what vouchers redeemed to the provider, the rest back')
    .action(async (text: string) => {
      const channel = addressArg('paych collect', text)
      await withManager(flags, (m) => m.collect(channel))
      print({ channel, collected: true })
    })
}
