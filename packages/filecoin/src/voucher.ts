// Retrieval vouchers (go-retrieval-types types.ipldsch, map forms): the DealProposal a client
// sends as `Vouch` and the DealResponse a provider sends as `VRes`.
import { decodeDagCbor, encodeDagCbor } from '@autoretrieve/graphsync'
import type { CID } from 'multiformats/cid'
import { decodeBigIntBytes, encodeBigIntBytes } from './big-int.ts'
import { MalformedTransferMessageError } from './errors.ts'
import { intNode, readBytes, readLink, readNullableLink, readString, readStruct, readUint, readUint64 } from './node.ts'

/** Deal status values (go-retrieval-types / go-fil-markets DealStatus). */
export const DealStatus = Object.freeze({
  New: 0,
  Unsealing: 1,
  Unsealed: 2,
  WaitForAcceptance: 3,
  PaymentChannelCreating: 4,
  PaymentChannelAddingFunds: 5,
  Accepted: 6,
  FundsNeededUnseal: 7,
  Failing: 8,
  Rejected: 9,
  FundsNeeded: 10,
  SendFunds: 11,
  SendFundsLastPayment: 12,
  Ongoing: 13,
  FundsNeededLastPayment: 14,
  Completed: 15,
  DealNotFound: 16,
  Errored: 17,
  BlocksComplete: 18,
  Finalizing: 19,
  Completing: 20,
  CheckComplete: 21,
  CheckFunds: 22,
  InsufficientFunds: 23,
  PaymentChannelAllocatingLane: 24,
  Cancelling: 25,
  Cancelled: 26,
  RetryLegacy: 27,
  WaitForAcceptanceLegacy: 28,
  ClientWaitingForLastBlocks: 29,
  PaymentChannelAddingInitialFunds: 30,
  Erroring: 31,
  Rejecting: 32,
  DealNotFoundCleanup: 33,
  FinalizingBlockstore: 34
} as const)
export type DealStatus = (typeof DealStatus)[keyof typeof DealStatus]

export interface DealParams {
  /** `Selector`: inline IPLD selector; null means ExploreAllRecursively to the provider. */
  selector: unknown
  /** `PieceCID`: the piece to retrieve from, null for any. */
  pieceCid: CID | null
  /** `PricePerByte` in attoFIL. */
  pricePerByte: bigint
  /** `PaymentInterval`: bytes sent before the first payment is due. */
  paymentInterval: bigint
  /** `PaymentIntervalIncrease`. */
  paymentIntervalIncrease: bigint
  /** `UnsealPrice` in attoFIL. */
  unsealPrice: bigint
}

/** `RetrievalDealProposal/1`. */
export interface DealProposal {
  /** `PayloadCID`: the root; must equal the Graphsync root and the request's `BCid`. */
  payloadCid: CID
  /** `ID`: unique per client. */
  id: bigint
  params: DealParams
}

/** `RetrievalDealResponse/1`. */
export interface DealResponse {
  /** `Status`: a {@link DealStatus}. */
  status: number
  /** `ID`: echoes the proposal's. */
  id: bigint
  /** `PaymentOwed` in attoFIL. */
  paymentOwed: bigint
  /** `Message`: the provider's reason, `''` when none. */
  message: string
}

const PROPOSAL_KEYS = ['PayloadCID', 'ID', 'Params'] as const
const PARAMS_KEYS = [
  'Selector',
  'PieceCID',
  'PricePerByte',
  'PaymentInterval',
  'PaymentIntervalIncrease',
  'UnsealPrice'
] as const
const RESPONSE_KEYS = ['Status', 'ID', 'PaymentOwed', 'Message'] as const

function readAmount(where: string, value: unknown): bigint {
  try {
    return decodeBigIntBytes(readBytes(where, value))
  } catch (cause) {
    if (cause instanceof MalformedTransferMessageError) throw cause
    throw new MalformedTransferMessageError(`${where}: ${(cause as Error).message}`, { cause })
  }
}

/** The IPLD data-model form of a proposal, to use as a request's `voucher`. */
export function dealProposalToNode(proposal: DealProposal): Record<string, unknown> {
  const { params } = proposal
  return {
    PayloadCID: proposal.payloadCid,
    ID: intNode(proposal.id, 'DealProposal.ID'),
    Params: {
      Selector: params.selector ?? null,
      PieceCID: params.pieceCid,
      PricePerByte: encodeBigIntBytes(params.pricePerByte),
      PaymentInterval: intNode(params.paymentInterval, 'DealProposal.Params.PaymentInterval'),
      PaymentIntervalIncrease: intNode(params.paymentIntervalIncrease, 'DealProposal.Params.PaymentIntervalIncrease'),
      UnsealPrice: encodeBigIntBytes(params.unsealPrice)
    }
  }
}

/** Reads a `RetrievalDealProposal/1` voucher. Throws {@link MalformedTransferMessageError}. */
export function dealProposalFromNode(value: unknown): DealProposal {
  const map = readStruct('DealProposal', value, PROPOSAL_KEYS)
  const params = readStruct('DealProposal.Params', map.Params, PARAMS_KEYS)
  return {
    payloadCid: readLink('DealProposal.PayloadCID', map.PayloadCID),
    id: readUint64('DealProposal.ID', map.ID),
    params: {
      selector: params.Selector,
      pieceCid: readNullableLink('DealProposal.Params.PieceCID', params.PieceCID),
      pricePerByte: readAmount('DealProposal.Params.PricePerByte', params.PricePerByte),
      paymentInterval: readUint64('DealProposal.Params.PaymentInterval', params.PaymentInterval),
      paymentIntervalIncrease: readUint64(
        'DealProposal.Params.PaymentIntervalIncrease',
        params.PaymentIntervalIncrease
      ),
      unsealPrice: readAmount('DealProposal.Params.UnsealPrice', params.UnsealPrice)
    }
  }
}

/** The IPLD data-model form of a deal response (what a provider puts in `VRes`). */
export function dealResponseToNode(response: DealResponse): Record<string, unknown> {
  return {
    Status: response.status,
    ID: intNode(response.id, 'DealResponse.ID'),
    PaymentOwed: encodeBigIntBytes(response.paymentOwed),
    Message: response.message
  }
}

/** Reads a `RetrievalDealResponse/1` voucher result. Throws {@link MalformedTransferMessageError}. */
export function dealResponseFromNode(value: unknown): DealResponse {
  const map = readStruct('DealResponse', value, RESPONSE_KEYS)
  return {
    status: readUint('DealResponse.Status', map.Status),
    id: readUint64('DealResponse.ID', map.ID),
    paymentOwed: readAmount('DealResponse.PaymentOwed', map.PaymentOwed),
    message: readString('DealResponse.Message', map.Message)
  }
}

function decodeVoucherBytes(part: string, bytes: Uint8Array): unknown {
  try {
    return decodeDagCbor(bytes)
  } catch (cause) {
    throw new MalformedTransferMessageError(`${part}: not DAG-CBOR: ${(cause as Error).message}`, { cause })
  }
}

export function encodeDealProposal(proposal: DealProposal): Uint8Array {
  return encodeDagCbor(dealProposalToNode(proposal))
}

export function decodeDealProposal(bytes: Uint8Array): DealProposal {
  return dealProposalFromNode(decodeVoucherBytes('DealProposal', bytes))
}

export function encodeDealResponse(response: DealResponse): Uint8Array {
  return encodeDagCbor(dealResponseToNode(response))
}

export function decodeDealResponse(bytes: Uint8Array): DealResponse {
  return dealResponseFromNode(decodeVoucherBytes('DealResponse', bytes))
}
