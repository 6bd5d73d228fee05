import { ConfigError } from '@autoretrieve/config'

/**
 * Builds what talks to the Lotus API of FULLNODE_API_INFO (the miner resolver, the payments'
 * client). An API info that cannot be read is a config error naming the variable; an unreachable
 * Lotus is not, and shows only when it is asked.
 */
export function fromLotusApiInfo<T>(build: () => T): T {
  try {
    return build()
  } catch (cause) {
    throw new ConfigError(`FULLNODE_API_INFO: ${(cause as Error).message}`, { key: 'FULLNODE_API_INFO' }, { cause })
  }
}
