/**
 * @autoretrieve/paych: payment channels for paid retrievals, as the Go autoretrieve's paychmgr
 * kept them. One channel per (wallet, provider payment address), created through the init actor
 * and funded with plain sends, all as messages this node builds and signs itself and pushes
 * through Lotus; lanes and voucher nonces kept in the database (written before a voucher is
 * signed, so a restart never reuses a nonce) with the day's spend charged in the same
 * transaction; settle and collect for the operator.
 */
export { PaychError, SpendLimitError } from './errors.ts'
export { createPaychManager, type PaychManager, type PaychManagerInit } from './manager.ts'
export type {
  ChannelView,
  PaymentChannelSummary,
  PaymentLane,
  PaymentsSummary,
  RetrievalPayments
} from './types.ts'
