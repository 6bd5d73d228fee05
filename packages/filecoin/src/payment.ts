// The `RetrievalDealPayment/1` voucher a paying client sends during a transfer (go-retrieval-types
// DealPayment, data-transfer.md §3.3): the deal, the payment channel's address bytes and the
// signed voucher, embedded as its IPLD tuple form (packages/chain owns that codec).

import {
  type Address,
  addressFromBytes,
  addressToBytes,
  type SignedVoucher,
  signedVoucherFromNode,
  signedVoucherToNode
} from '@autoretrieve/chain'
import { decodeDagCbor, encodeDagCbor } from '@autoretrieve/graphsync'
import { MalformedTransferMessageError } from './errors.ts'
import { intNode, readBytes, readStruct, readUint64 } from './node.ts'

/** `RetrievalDealPayment/1`. */
export interface DealPayment {
  /** `ID`: the deal being paid for (the proposal's ID). */
  id: bigint
  /** `PaymentChannel`: the channel actor's address. */
  paymentChannel: Address
  /** `PaymentVoucher`: the voucher; its `amount` is the cumulative total paid on its lane. */
  paymentVoucher: SignedVoucher | null
}

const PAYMENT_KEYS = ['ID', 'PaymentChannel', 'PaymentVoucher'] as const

/** Runs a chain-package read, turning its error into one that names the key. */
function readWith<T>(where: string, read: () => T): T {
  try {
    return read()
  } catch (cause) {
    if (cause instanceof MalformedTransferMessageError) throw cause
    throw new MalformedTransferMessageError(`${where}: ${(cause as Error).message}`, { cause })
  }
}

/** The IPLD data-model form of a payment, to use as a Voucher request's `voucher`. */
export function dealPaymentToNode(payment: DealPayment): Record<string, unknown> {
  return {
    ID: intNode(payment.id, 'DealPayment.ID'),
    PaymentChannel: addressToBytes(payment.paymentChannel),
    PaymentVoucher: payment.paymentVoucher === null ? null : signedVoucherToNode(payment.paymentVoucher)
  }
}

/** Reads a `RetrievalDealPayment/1` voucher (the provider's side). Throws {@link MalformedTransferMessageError}. */
export function dealPaymentFromNode(value: unknown): DealPayment {
  const map = readStruct('DealPayment', value, PAYMENT_KEYS)
  const channelBytes = readBytes('DealPayment.PaymentChannel', map.PaymentChannel)
  return {
    id: readUint64('DealPayment.ID', map.ID),
    paymentChannel: readWith('DealPayment.PaymentChannel', () => addressFromBytes(channelBytes)),
    paymentVoucher:
      map.PaymentVoucher === null
        ? null
        : readWith('DealPayment.PaymentVoucher', () => signedVoucherFromNode(map.PaymentVoucher))
  }
}

export function encodeDealPayment(payment: DealPayment): Uint8Array {
  return encodeDagCbor(dealPaymentToNode(payment))
}

export function decodeDealPayment(bytes: Uint8Array): DealPayment {
  let value: unknown
  try {
    value = decodeDagCbor(bytes)
  } catch (cause) {
    throw new MalformedTransferMessageError(`DealPayment: not DAG-CBOR: ${(cause as Error).message}`, { cause })
  }
  return dealPaymentFromNode(value)
}
