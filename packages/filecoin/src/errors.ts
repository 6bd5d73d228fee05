/**
 * A data-transfer message or retrieval voucher that does not follow its schema: a missing or
 * unknown key, a value of the wrong type, bytes that are not DAG-CBOR. The message names the part
 * and the key.
 */
export class MalformedTransferMessageError extends Error {
  static override name = 'MalformedTransferMessageError'
  override name = 'MalformedTransferMessageError'
  readonly code = 'ERR_MALFORMED_TRANSFER_MESSAGE'
}

/** Filecoin big-int bytes whose sign byte is neither 0x00 nor 0x01 (defined with the codec in @autoretrieve/chain). */
export { InvalidBigIntBytesError } from '@autoretrieve/chain'

/** A value on a data-transfer stream grew past the reader's bound before it was complete. */
export class TransferMessageTooLargeError extends Error {
  static override name = 'TransferMessageTooLargeError'
  override name = 'TransferMessageTooLargeError'
  readonly code = 'ERR_TRANSFER_MESSAGE_TOO_LARGE'
}

/** A data-transfer stream ended in the middle of a value. */
export class TruncatedTransferMessageError extends Error {
  static override name = 'TruncatedTransferMessageError'
  override name = 'TruncatedTransferMessageError'
  readonly code = 'ERR_TRUNCATED_TRANSFER_MESSAGE'
}

/** A data-transfer stream went longer than the reader's per-message deadline without a whole message. */
export class TransferReadTimeoutError extends Error {
  static override name = 'TransferReadTimeoutError'
  override name = 'TransferReadTimeoutError'
  readonly code = 'ERR_TRANSFER_READ_TIMEOUT'
}

/** Details a provider gave with a failure: its deal status and its own words. */
export interface ProviderFailureDetails {
  /** The DealResponse `Message`, `''` when the provider gave none. */
  providerMessage?: string
  /** The DealResponse `Status`, when there was a DealResponse. */
  dealStatus?: number
}

/** The provider refused the deal (New response with `Acpt:false`, or DealResponse Rejected). */
export class DealRejectedError extends Error {
  static override name = 'DealRejectedError'
  override name = 'DealRejectedError'
  readonly code = 'ERR_DEAL_REJECTED'
  readonly providerMessage: string
  readonly dealStatus?: number
  constructor(message: string, details: ProviderFailureDetails = {}, options?: ErrorOptions) {
    super(message, options)
    this.providerMessage = details.providerMessage ?? ''
    this.dealStatus = details.dealStatus
  }
}

/** The provider paused the transfer until it is paid: we only do free retrievals. */
export class PaymentRequiredError extends Error {
  static override name = 'PaymentRequiredError'
  override name = 'PaymentRequiredError'
  readonly code = 'ERR_PAYMENT_REQUIRED'
  /** attoFIL the provider asks for (DealResponse `PaymentOwed`). */
  readonly paymentOwed: bigint
  readonly dealStatus?: number
  constructor(message: string, paymentOwed: bigint, dealStatus?: number, options?: ErrorOptions) {
    super(message, options)
    this.paymentOwed = paymentOwed
    this.dealStatus = dealStatus
  }
}

/** The provider cancelled the transfer (a Cancel message, or DealResponse Cancelled). */
export class TransferCancelledError extends Error {
  static override name = 'TransferCancelledError'
  override name = 'TransferCancelledError'
  readonly code = 'ERR_TRANSFER_CANCELLED'
  readonly providerMessage: string
  constructor(message: string, details: ProviderFailureDetails = {}, options?: ErrorOptions) {
    super(message, options)
    this.providerMessage = details.providerMessage ?? ''
  }
}

/** The provider reported an error on its side (DealResponse Errored or DealNotFound, a failed Complete). */
export class DealFailedError extends Error {
  static override name = 'DealFailedError'
  override name = 'DealFailedError'
  readonly code = 'ERR_DEAL_FAILED'
  readonly providerMessage: string
  readonly dealStatus?: number
  constructor(message: string, details: ProviderFailureDetails = {}, options?: ErrorOptions) {
    super(message, options)
    this.providerMessage = details.providerMessage ?? ''
    this.dealStatus = details.dealStatus
  }
}

/**
 * A retrieval query (`/fil/retrieval/qry/1.0.0`) got no usable answer: the dial, the stream, the
 * read (EOF, reset, timeout), an answer over the size cap, or one that is not a QueryResponse. The
 * message uses the Go node's words ("failed to dial", "failed to open stream to peer", "failed to
 * read response: EOF", "failed to read response: stream reset") so its `query_error_*` series match.
 */
export class QueryFailedError extends Error {
  static override name = 'QueryFailedError'
  override name = 'QueryFailedError'
  readonly code = 'ERR_QUERY_FAILED'
  /** The provider does not speak the query protocol at all (protocol negotiation failed). */
  readonly unsupported: boolean
  constructor(message: string, options?: ErrorOptions & { unsupported?: boolean }) {
    super(message, options)
    this.unsupported = options?.unsupported === true
  }
}
