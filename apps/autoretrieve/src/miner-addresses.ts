import { type AutoretrieveConfig, ConfigError } from '@autoretrieve/config'
import { createLotusMinerResolver, createMinerAddressBook, type MinerAddressBook } from '@autoretrieve/routing'
import type { Logger } from './logger.ts'

/**
 * The node's miner address book: the f0 addresses of the deny and allow lists and miner configs,
 * resolved through the Lotus API of FULLNODE_API_INFO (`TOKEN:/ip4/…/tcp/…/http` or a URL). The
 * book caches answers (TTL, refreshed in the background), so the resolver underneath does not.
 * A FULLNODE_API_INFO that cannot be read is a config error; an unreachable Lotus is not.
 */
export function createMinerAddresses(config: AutoretrieveConfig, logger: Logger): MinerAddressBook {
  let resolver: ReturnType<typeof createLotusMinerResolver>
  try {
    resolver = createLotusMinerResolver({ logger }, { apiInfo: config.fullnodeApiInfo, cacheTtlMs: 0, failureTtlMs: 0 })
  } catch (cause) {
    throw new ConfigError(`FULLNODE_API_INFO: ${(cause as Error).message}`, { key: 'FULLNODE_API_INFO' }, { cause })
  }
  return createMinerAddressBook({ resolver, logger })
}
