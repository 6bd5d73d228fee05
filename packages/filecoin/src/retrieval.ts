// Building a retrieval: the DealProposal (free, or priced from the provider's query answer), the New
// pull request that carries it (data-transfer.md §4 steps 3 and 4, §8.3), and the Voucher request
// that pays during the transfer (§8.6).
import type { CID } from 'multiformats/cid'
import { VoucherType } from './constants.ts'
import { emptyChannelId, MessageType, type TransferMessage } from './message.ts'
import { type DealPayment, dealPaymentToNode } from './payment.ts'
import type { QueryResponse } from './query.ts'
import { type DealProposal, dealProposalToNode } from './voucher.ts'

export interface FreeRetrievalProposalInit {
  /** The root being retrieved (the Graphsync `root`). */
  payloadCid: CID
  /** Deal ID, unique per (client, provider). */
  id: bigint
  /** The selector, as an IPLD data-model value; the same one the Graphsync request carries. */
  selector: unknown
}

/** A proposal for a free retrieval: zero prices, zero intervals, no piece CID (as Lassie sends). */
export function createFreeRetrievalProposal(init: FreeRetrievalProposalInit): DealProposal {
  return {
    payloadCid: init.payloadCid,
    id: init.id,
    params: {
      selector: init.selector,
      pieceCid: null,
      pricePerByte: 0n,
      paymentInterval: 0n,
      paymentIntervalIncrease: 0n,
      unsealPrice: 0n
    }
  }
}

export interface PaidRetrievalProposalInit extends FreeRetrievalProposalInit {
  /** The provider's answer to the retrieval query: its prices and payment intervals. */
  ask: Pick<QueryResponse, 'minPricePerByte' | 'unsealPrice' | 'maxPaymentInterval' | 'maxPaymentIntervalIncrease'>
}

/**
 * A proposal at the provider's own terms, as the 2023 Lassie built it from the query answer
 * (data-transfer.md §7): PricePerByte = MinPricePerByte, UnsealPrice, PaymentInterval =
 * MaxPaymentInterval, PaymentIntervalIncrease = MaxPaymentIntervalIncrease, no piece CID.
 */
export function createPaidRetrievalProposal(init: PaidRetrievalProposalInit): DealProposal {
  const { ask } = init
  return {
    payloadCid: init.payloadCid,
    id: init.id,
    params: {
      selector: init.selector,
      pieceCid: null,
      pricePerByte: ask.minPricePerByte,
      paymentInterval: ask.maxPaymentInterval,
      paymentIntervalIncrease: ask.maxPaymentIntervalIncrease,
      unsealPrice: ask.unsealPrice
    }
  }
}

export interface TransferPullRequestInit {
  /** The root (`BCid`); must equal the proposal's payload CID. */
  root: CID
  /** The selector (`Stor`), the same as the Graphsync request's. */
  selector: unknown
  /** The deal proposal, sent as a `RetrievalDealProposal/1` voucher. */
  voucher: DealProposal
  /** `XferID`, unique per (client, provider). */
  transferId: bigint
}

/**
 * The data-transfer New pull request to put under `fil/data-transfer/1.1` in the Graphsync New
 * request: Pull true, not paused, not partial, `RestartChannel` `["", "", 0]`.
 */
export function createTransferPullRequest(init: TransferPullRequestInit): TransferMessage {
  if (!init.voucher.payloadCid.equals(init.root)) {
    throw new RangeError(`the proposal's payload CID ${init.voucher.payloadCid} is not the root ${init.root}`)
  }
  return {
    isRequest: true,
    request: {
      type: MessageType.New,
      baseCid: init.root,
      paused: false,
      partial: false,
      pull: true,
      selector: init.selector,
      voucher: dealProposalToNode(init.voucher),
      voucherType: VoucherType.DealProposal,
      transferId: init.transferId,
      restartChannel: emptyChannelId()
    }
  }
}

export interface VoucherRequestInit {
  /** `XferID` of the transfer being paid for. */
  transferId: bigint
  /** The payment: deal ID, channel and the signed voucher (cumulative amount on its lane). */
  payment: DealPayment
}

/**
 * The data-transfer Voucher request (Type 4) that pays during a transfer: `Vouch` is the
 * `RetrievalDealPayment/1`, `BCid` and `Stor` null, every boolean false (go-data-transfer's
 * VoucherRequest). It goes on a new `/fil/datatransfer/1.2.0` stream, not in Graphsync.
 */
export function createVoucherRequest(init: VoucherRequestInit): TransferMessage {
  return {
    isRequest: true,
    request: {
      type: MessageType.Voucher,
      baseCid: null,
      paused: false,
      partial: false,
      pull: false,
      selector: null,
      voucher: dealPaymentToNode(init.payment),
      voucherType: VoucherType.DealPayment,
      transferId: init.transferId,
      restartChannel: emptyChannelId()
    }
  }
}
