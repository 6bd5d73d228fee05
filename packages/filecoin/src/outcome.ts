// Reading a provider's answer: the data-transfer message in a Graphsync response's extensions, and
// what it means for a free retrieval (data-transfer.md §3.5, §4 steps 7–8, §6).
import { TRANSFER_EXTENSION_LOOKUP_ORDER, VoucherType } from './constants.ts'
import { DealFailedError, DealRejectedError, PaymentRequiredError, TransferCancelledError } from './errors.ts'
import { MessageType, type TransferMessage, transferMessageFromNode } from './message.ts'
import { type DealResponse, DealStatus, dealResponseFromNode } from './voucher.ts'

/**
 * The provider's data-transfer message in a Graphsync response's extensions, looked up under
 * `fil/data-transfer/incoming-request/1.1`, then `fil/data-transfer/1.1`, then
 * `fil/data-transfer/outgoing-block/1.1`; undefined when none is there. Throws
 * MalformedTransferMessageError when the first one found does not decode.
 */
export function findTransferMessage(extensions: Record<string, unknown> | undefined): TransferMessage | undefined {
  if (extensions === undefined) return undefined
  for (const name of TRANSFER_EXTENSION_LOOKUP_ORDER) {
    const value = extensions[name]
    if (value !== undefined && value !== null) return transferMessageFromNode(value)
  }
  return undefined
}

/** What a provider's message means for our retrieval. */
export type TransferOutcomeKind =
  | 'accepted'
  | 'rejected'
  | 'completed'
  | 'paused-for-payment'
  | 'cancelled'
  | 'errored'
  | 'pending'

export interface TransferOutcome {
  kind: TransferOutcomeKind
  transferId: bigint
  /** The `RetrievalDealResponse/1` voucher result, when the message had one. */
  dealResponse?: DealResponse
  /** The provider's own words (DealResponse `Message`), `''` when it gave none. */
  message: string
  /** For `paused-for-payment`: attoFIL asked for. */
  paymentOwed?: bigint
}

function dealResponseOf(message: TransferMessage): DealResponse | undefined {
  if (message.isRequest) {
    return undefined
  }
  const { voucherType, voucherResult } = message.response
  if (voucherType !== VoucherType.DealResponse || voucherResult === null || voucherResult === undefined) {
    return undefined
  }
  return dealResponseFromNode(voucherResult)
}

function kindOfStatus(status: number): TransferOutcomeKind | undefined {
  switch (status) {
    case DealStatus.Accepted:
      return 'accepted'
    case DealStatus.Rejected:
      return 'rejected'
    case DealStatus.FundsNeeded:
    case DealStatus.FundsNeededLastPayment:
    case DealStatus.FundsNeededUnseal:
      return 'paused-for-payment'
    case DealStatus.Completed:
      return 'completed'
    case DealStatus.Cancelled:
      return 'cancelled'
    case DealStatus.Errored:
    case DealStatus.DealNotFound:
      return 'errored'
    default:
      return undefined
  }
}

function kindOf(message: TransferMessage, deal: DealResponse | undefined): TransferOutcomeKind {
  if (message.isRequest) {
    // A peer's request to us: only a Cancel concerns a channel we pull on.
    return message.request.type === MessageType.Cancel ? 'cancelled' : 'pending'
  }
  const { type, accepted } = message.response
  if (type === MessageType.Cancel) return 'cancelled'
  const opens = type === MessageType.New || type === MessageType.Restart
  if (opens && !accepted) return 'rejected'
  const byStatus = deal === undefined ? undefined : kindOfStatus(deal.status)
  if (byStatus !== undefined) return byStatus
  if (type === MessageType.Complete) return accepted ? 'completed' : 'errored'
  if (opens) return 'accepted'
  return 'pending'
}

/**
 * Interprets a provider's data-transfer message. A Cancel is `cancelled`; a New/Restart response
 * with `Acpt:false` is `rejected`; otherwise the DealResponse status decides (Accepted, Rejected,
 * FundsNeeded*, Completed, Cancelled, Errored/DealNotFound), then the message type (Complete →
 * `completed`, an accepted New → `accepted`); anything else (an update, a bare voucher result) is
 * `pending`. Throws MalformedTransferMessageError when a `RetrievalDealResponse/1` does not decode.
 */
export function interpretTransferMessage(message: TransferMessage): TransferOutcome {
  const deal = dealResponseOf(message)
  const kind = kindOf(message, deal)
  const outcome: TransferOutcome = {
    kind,
    transferId: message.isRequest ? message.request.transferId : message.response.transferId,
    message: deal?.message ?? ''
  }
  if (deal !== undefined) outcome.dealResponse = deal
  if (kind === 'paused-for-payment') outcome.paymentOwed = deal?.paymentOwed ?? 0n
  return outcome
}

/**
 * The error for a failed outcome (rejected, paused-for-payment, cancelled, errored), undefined for
 * the others. `provider` names the provider in the message (a peer ID string).
 */
export function transferOutcomeError(outcome: TransferOutcome, provider = 'provider'): Error | undefined {
  const details = { providerMessage: outcome.message, dealStatus: outcome.dealResponse?.status }
  const reason = outcome.message === '' ? '' : `: ${outcome.message}`
  switch (outcome.kind) {
    case 'rejected':
      return new DealRejectedError(`${provider} rejected the deal${reason}`, details)
    case 'paused-for-payment':
      return new PaymentRequiredError(
        `${provider} asks for payment (${outcome.paymentOwed ?? 0n} attoFIL)${reason}`,
        outcome.paymentOwed ?? 0n,
        details.dealStatus
      )
    case 'cancelled':
      return new TransferCancelledError(`${provider} cancelled the transfer${reason}`, details)
    case 'errored':
      return new DealFailedError(`${provider} failed the deal${reason}`, details)
    default:
      return undefined
  }
}
