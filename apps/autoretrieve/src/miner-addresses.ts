import type { AutoretrieveConfig } from '@autoretrieve/config'
import { createLotusMinerResolver, createMinerAddressBook, type MinerAddressBook } from '@autoretrieve/routing'
import type { Logger } from './logger.ts'
import { fromLotusApiInfo } from './lotus-api.ts'

/**
 * The node's miner address book: the f0 addresses of the deny and allow lists and miner configs,
 * resolved through the Lotus API of FULLNODE_API_INFO (`TOKEN:/ip4/…/tcp/…/http` or a URL). The
 * book caches answers (TTL, refreshed in the background), so the resolver underneath does not.
 */
export function createMinerAddresses(config: AutoretrieveConfig, logger: Logger): MinerAddressBook {
  const resolver = fromLotusApiInfo(() =>
    createLotusMinerResolver({ logger }, { apiInfo: config.fullnodeApiInfo, cacheTtlMs: 0, failureTtlMs: 0 })
  )
  return createMinerAddressBook({ resolver, logger })
}
