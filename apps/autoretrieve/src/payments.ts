import { createLotusClient } from '@autoretrieve/chain'
import type { AutoretrieveConfig } from '@autoretrieve/config'
import { createPaychManager, type PaychManager } from '@autoretrieve/paych'
import { parseApiInfo } from '@autoretrieve/routing'
import type { Store } from '@autoretrieve/store'
import { openWallet } from '@autoretrieve/wallet'
import type { Logger } from './logger.ts'
import { fromLotusApiInfo } from './lotus-api.ts'

/** The Lotus client payments use, and its URL without the token (for messages and logs). */
export function paymentsLotus(config: AutoretrieveConfig) {
  const url = fromLotusApiInfo(() => parseApiInfo(config.fullnodeApiInfo).url)
  return { lotus: createLotusClient({ apiInfo: config.fullnodeApiInfo }), url }
}

/**
 * The payment channel manager for `paid-retrievals: true`, or undefined when the node cannot pay.
 *
 * With no default key in <data-dir>/wallet the node starts anyway, with paid retrievals off (a
 * priced provider is passed over, `paid_not_allowed`) and a warning saying how to turn them on.
 * Refusing to start would take a node that serves its cache and free deals down over a setting
 * it cannot honour yet; an operator turning paid retrievals on expects the warning, then
 * `autoretrieve wallet new`, funding and a restart. Nothing is sent to Lotus until a lane is needed.
 */
export async function createNodePayments(
  config: AutoretrieveConfig,
  store: Store,
  logger: Logger
): Promise<PaychManager | undefined> {
  if (!config.paidRetrievals) return undefined
  const wallet = await openWallet(config.dataDir, { logger: logger.child({ component: 'wallet' }) })
  let from: string | undefined
  try {
    from = await wallet.defaultAddress()
  } catch (err) {
    logger.warn(
      { err, wallet: wallet.dir },
      'paid-retrievals is set, but the wallet cannot be read: paid retrievals are off'
    )
    return undefined
  }
  if (from === undefined) {
    logger.warn(
      { wallet: wallet.dir },
      'paid-retrievals is set, but the wallet has no default key: paid retrievals are off (priced providers are passed over) until `autoretrieve wallet new`, funding that address and a restart'
    )
    return undefined
  }
  const { lotus, url } = paymentsLotus(config)
  logger.info(
    {
      wallet: from,
      lotus: url,
      maxSpendPerDay: config.maxSpendPerDay?.toString() ?? null,
      paychFundAmount: config.paychFundAmount.toString()
    },
    'paid retrievals on: payment channels from the default wallet key through Lotus'
  )
  return createPaychManager({
    repository: store.paych,
    lotus,
    lotusUrl: url,
    wallet,
    maxSpendPerDay: config.maxSpendPerDay,
    minAvailable: config.paychMinAvailable,
    fundAmount: config.paychFundAmount,
    logger: logger.child({ component: 'paych' })
  })
}
