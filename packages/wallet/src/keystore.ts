import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  addressOfKey,
  formatAddress,
  generatePrivateKey,
  type KeyInfo,
  keyInfoFromJson,
  keyInfoToJson,
  parseAddress
} from '@autoretrieve/chain'
import { type Logger, silentLogger } from '@autoretrieve/interface'
import { base32upper } from 'multiformats/bases/base32'
import { KeyNotFoundError, WalletError } from './errors.ts'

/** The wallet's directory inside the data dir (the Go node's `walletSubdir`). */
export const WALLET_DIR = 'wallet'

// Lotus chain/wallet's key names: KNamePrefix + address, and KDefault (a copy of the default key).
const KEY_PREFIX = 'wallet-'
const DEFAULT_KEY = 'default'
// A KeyInfo is under 100 bytes of JSON; a file much larger is not one, and is not read whole.
const MAX_KEY_FILE_BYTES = 4096

export interface WalletKey {
  /** f1… */
  address: string
  default: boolean
}

export interface Wallet {
  /** The wallet directory. */
  readonly dir: string
  /** Every key's address, sorted, the default marked. */
  list(): Promise<WalletKey[]>
  /** The default key's address, or undefined when there is none. */
  defaultAddress(): Promise<string | undefined>
  /** Makes the key for `address` (which must be in the wallet) the default. */
  setDefault(address: string): Promise<void>
  /** A new secp256k1 key; it becomes the default when there is none. */
  generate(): Promise<{ address: string; isDefault: boolean }>
  /** Stores a key (a no-op if it is there already); it becomes the default when there is none. */
  importKey(key: KeyInfo): Promise<{ address: string; isDefault: boolean }>
  /** The key for `address` (KeyNotFoundError if the wallet has none). */
  key(address: string): Promise<KeyInfo>
}

/** A key name's file name, as filclient's DiskKeyStore names it: base32 (RFC 4648, upper case, unpadded). */
export function keyFileName(name: string): string {
  return base32upper.baseEncode(new TextEncoder().encode(name))
}

function keyNameOf(fileName: string): string | undefined {
  if (!/^[A-Z2-7]+$/.test(fileName)) return undefined
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(base32upper.baseDecode(fileName))
  } catch {
    return undefined
  }
}

/** f1 form of an address as given (f or t prefix); WalletError when it is not one. */
function normalise(address: string): string {
  try {
    return formatAddress(parseAddress(address.trim()))
  } catch (cause) {
    throw new WalletError(`"${address.slice(0, 120)}" is not a Filecoin address`, { cause })
  }
}

/**
 * Opens `<dataDir>/wallet`, creating it (0700) when missing. Modes looser than 0700 (the directory)
 * or 0600 (a key file) are tightened with a warning: the Go keystore refused such files, and a
 * key readable by others should stop being so rather than stop the node.
 */
export async function openWallet(dataDir: string, opts: { logger?: Logger } = {}): Promise<Wallet> {
  const log = opts.logger ?? silentLogger
  const dir = join(dataDir, WALLET_DIR)
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const st = await stat(dir)
    if (!st.isDirectory()) throw new WalletError(`${dir} is not a directory`)
    if ((st.mode & 0o077) !== 0) {
      await chmod(dir, 0o700)
      log.warn({ dir, mode: (st.mode & 0o777).toString(8) }, 'wallet directory was readable by others: set to 0700')
    }
  } catch (err) {
    if (err instanceof WalletError) throw err
    throw new WalletError(`cannot open the wallet directory ${dir}: ${(err as Error).message}`, { cause: err })
  }

  const pathOf = (name: string) => join(dir, keyFileName(name))

  /** A key file's KeyInfo, or undefined when there is no such file. */
  const read = async (name: string): Promise<KeyInfo | undefined> => {
    const path = pathOf(name)
    let handle: Awaited<ReturnType<typeof open>>
    try {
      handle = await open(path, constants.O_RDONLY)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new WalletError(`cannot read key "${name}" (${path}): ${(err as Error).message}`, { cause: err })
    }
    try {
      const st = await handle.stat()
      if ((st.mode & 0o077) !== 0) {
        await handle.chmod(0o600)
        log.warn(
          { file: path, key: name, mode: (st.mode & 0o777).toString(8) },
          'key file was readable by others: set to 0600'
        )
      }
      if (st.size > MAX_KEY_FILE_BYTES)
        throw new WalletError(`key "${name}" (${path}) is ${st.size} bytes: not a Lotus key info`)
      const text = await handle.readFile('utf8')
      try {
        return keyInfoFromJson(text)
      } catch (cause) {
        // keyInfoFromJson's messages never echo the key.
        throw new WalletError(`key "${name}" (${path}): ${(cause as Error).message}`, { cause })
      }
    } finally {
      await handle.close()
    }
  }

  /** Writes a new key file (O_EXCL, 0600); false when one exists already. */
  const create = async (name: string, key: KeyInfo): Promise<boolean> => {
    const path = pathOf(name)
    let handle: Awaited<ReturnType<typeof open>> | undefined
    try {
      handle = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600)
      await handle.writeFile(keyInfoToJson(key))
      await handle.sync()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw new WalletError(`cannot write key "${name}" (${path}): ${(err as Error).message}`, { cause: err })
    } finally {
      await handle?.close()
    }
    // The mode given to open is masked by the umask; make sure it is exactly 0600.
    await chmod(path, 0o600)
    return true
  }

  /**
   * Replaces `default` atomically: written beside the wallet directory (a stray file inside it
   * would break the Go keystore's listing, which decodes every name) and renamed into place.
   */
  const replaceDefault = async (key: KeyInfo): Promise<void> => {
    const tmp = join(dirname(dir), `.wallet-default-${process.pid}-${randomBytes(4).toString('hex')}`)
    try {
      const handle = await open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600)
      try {
        await handle.writeFile(keyInfoToJson(key))
        await handle.sync()
      } finally {
        await handle.close()
      }
      await chmod(tmp, 0o600)
      await rename(tmp, pathOf(DEFAULT_KEY))
    } catch (err) {
      await rm(tmp, { force: true })
      throw new WalletError(`cannot set the default key in ${dir}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** The key stored under `wallet-<address>`, also under the testnet prefix as Lotus looks it up. */
  const find = async (address: string): Promise<KeyInfo | undefined> => {
    const f = normalise(address)
    return (await read(KEY_PREFIX + f)) ?? (await read(`${KEY_PREFIX}t${f.slice(1)}`))
  }

  const defaultAddress = async (): Promise<string | undefined> => {
    const key = await read(DEFAULT_KEY)
    return key === undefined ? undefined : formatAddress(addressOfKey(key.privateKey))
  }

  const store = async (key: KeyInfo): Promise<{ address: string; isDefault: boolean }> => {
    const address = formatAddress(addressOfKey(key.privateKey))
    if ((await find(address)) === undefined) await create(KEY_PREFIX + address, key)
    // O_EXCL: two commands at once leave one default, never a torn file.
    const isDefault = (await create(DEFAULT_KEY, key)) || (await defaultAddress()) === address
    return { address, isDefault }
  }

  return {
    dir,
    async list() {
      let names: string[]
      try {
        names = await readdir(dir)
      } catch (err) {
        throw new WalletError(`cannot list the wallet directory ${dir}: ${(err as Error).message}`, { cause: err })
      }
      const addresses = new Set<string>()
      for (const file of names) {
        const name = keyNameOf(file)
        if (name === undefined) {
          log.warn({ dir, file }, 'a file in the wallet directory is not a key: skipped')
          continue
        }
        if (!name.startsWith(KEY_PREFIX)) continue
        try {
          addresses.add(normalise(name.slice(KEY_PREFIX.length)))
        } catch {
          log.warn({ dir, file, key: name }, 'a wallet key is not named by an address: skipped')
        }
      }
      const def = await defaultAddress()
      return [...addresses].sort().map((address) => ({ address, default: address === def }))
    },
    defaultAddress,
    async setDefault(address) {
      const key = await find(address)
      if (key === undefined) throw new KeyNotFoundError(`no key for ${normalise(address)} in ${dir}`)
      await replaceDefault(key)
    },
    generate: () => store({ type: 'secp256k1', privateKey: generatePrivateKey() }),
    importKey: (key) => store(key),
    async key(address) {
      const key = await find(address)
      if (key === undefined) throw new KeyNotFoundError(`no key for ${normalise(address)} in ${dir}`)
      return key
    }
  }
}
