import { open } from 'node:fs/promises'
import { decodeKeyInfoHex, encodeKeyInfoHex, formatAddress, formatFil, parseAddress } from '@autoretrieve/chain'
import { loadConfig } from '@autoretrieve/config'
import type { Logger } from '@autoretrieve/interface'
import { openWallet, type Wallet, WalletError } from '@autoretrieve/wallet'
import type { Command } from 'commander'
import { LotusUnavailableError, UsageError } from '../errors.ts'
import { paymentsLotus } from '../payments.ts'
import type { FlagsGetter } from './index.ts'

// `lotus wallet export` hex is ~150 characters; a bigger input is not one and is not read whole.
const MAX_IMPORT_BYTES = 16 * 1024

/** Warnings (a key file's mode tightened) to stderr; the wallet never logs a key. */
export const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn: (obj, msg) => process.stderr.write(`warning: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`error: ${msg ?? ''} ${JSON.stringify(obj)}\n`)
}

/** The data dir's wallet (config.yaml decides the data dir, as for every command). */
export async function walletFor(flags: FlagsGetter): Promise<Wallet> {
  const { config } = await loadConfig({ flags: flags() })
  return openWallet(config.dataDir, { logger: stderrLogger })
}

/** An address argument in its f form; a bad one is a usage error (exit 2). */
export function addressArg(command: string, text: string): string {
  try {
    return formatAddress(parseAddress(text))
  } catch (cause) {
    throw new UsageError(`${command}: "${text.slice(0, 120)}" is not a Filecoin address (f1…)`, { cause })
  }
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`)

async function readBounded(source: string): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  const input = source === '-' ? process.stdin : (await open(source)).createReadStream()
  for await (const chunk of input as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_IMPORT_BYTES) {
      input.destroy()
      throw new UsageError(
        `wallet import: ${source === '-' ? 'stdin' : source} is over ${MAX_IMPORT_BYTES} bytes: not an exported key`
      )
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export function walletCommands(program: Command, flags: FlagsGetter): void {
  const wallet = program
    .command('wallet')
    .description('the node’s Filecoin keys in <data-dir>/wallet (paid retrievals pay from the default)')

  wallet
    .command('new')
    .description('make a secp256k1 key and make it the default (paid retrievals pay from it). Prints {"address":"f1…"}')
    .action(async () => {
      const w = await walletFor(flags)
      const previous = await w.defaultAddress()
      const made = await w.generate()
      // The rule: a new key becomes the default (Lotus only makes the first one so).
      if (!made.isDefault) await w.setDefault(made.address)
      print({ address: made.address })
      if (previous !== undefined && previous !== made.address)
        process.stderr.write(
          `${made.address} is now the default key, in place of ${previous} (\`wallet default ${previous}\` puts it back)\n`
        )
    })

  wallet
    .command('list')
    .description('every key’s address, the default marked, as JSON')
    .action(async () => {
      print(await (await walletFor(flags)).list())
    })

  wallet
    .command('default [address]')
    .description('print the default address, or make <address> the default')
    .action(async (text?: string) => {
      const w = await walletFor(flags)
      if (text !== undefined) {
        const address = addressArg('wallet default', text)
        await w.setDefault(address)
        print({ address, default: true })
        return
      }
      const address = await w.defaultAddress()
      if (address === undefined)
        throw new WalletError(`the wallet in ${w.dir} has no default key; run \`autoretrieve wallet new\``)
      print({ address })
    })

  wallet
    .command('balance [address]')
    .description('the balance of <address> (default: the default key) through Lotus (FULLNODE_API_INFO)')
    .action(async (text?: string) => {
      const { config } = await loadConfig({ flags: flags() })
      const w = await openWallet(config.dataDir, { logger: stderrLogger })
      const address = text !== undefined ? addressArg('wallet balance', text) : await w.defaultAddress()
      if (address === undefined)
        throw new WalletError(`the wallet in ${w.dir} has no default key; run \`autoretrieve wallet new\``)
      const { lotus, url } = paymentsLotus(config)
      let balance: bigint
      try {
        balance = await lotus.walletBalance(address)
      } catch (cause) {
        throw new LotusUnavailableError(
          `cannot read the balance of ${address} from Lotus at ${url}: ${(cause as Error).message}`,
          { cause }
        )
      }
      print({ address, attoFil: balance.toString(), fil: formatFil(balance) })
    })

  wallet
    .command('export <address>')
    .description('print the key as `lotus wallet export` does (hex of its Lotus key info): keep it secret')
    .action(async (text: string) => {
      const address = addressArg('wallet export', text)
      const key = await (await walletFor(flags)).key(address)
      process.stdout.write(`${encodeKeyInfoHex(key)}\n`)
    })

  wallet
    .command('import [file]')
    .description(
      'import a key exported by `lotus wallet export` (hex) from <file>, or stdin with - or nothing; it becomes the default when there is none'
    )
    .action(async (file?: string) => {
      const text = await readBounded(file ?? '-')
      let key: ReturnType<typeof decodeKeyInfoHex>
      try {
        key = decodeKeyInfoHex(text)
      } catch (cause) {
        throw new UsageError(`wallet import: ${(cause as Error).message}`, { cause })
      }
      const stored = await (await walletFor(flags)).importKey(key)
      print({ address: stored.address, default: stored.isDefault })
    })
}
