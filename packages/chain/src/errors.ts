/** An address string or byte form that is not a valid Filecoin address; the message says what and where. */
export class InvalidAddressError extends Error {
  static override name = 'InvalidAddressError'
  override name = 'InvalidAddressError'
  readonly code = 'ERR_INVALID_ADDRESS'
}

/** Filecoin big-int bytes whose sign byte is neither 0x00 nor 0x01. */
export class InvalidBigIntBytesError extends Error {
  static override name = 'InvalidBigIntBytesError'
  override name = 'InvalidBigIntBytesError'
  readonly code = 'ERR_INVALID_BIGINT_BYTES'
}

/** An amount string that is neither attoFIL nor FIL (see parseFil). */
export class InvalidAmountError extends Error {
  static override name = 'InvalidAmountError'
  override name = 'InvalidAmountError'
  readonly code = 'ERR_INVALID_AMOUNT'
}

/** A private key, signature or KeyInfo that cannot be used (wrong length, unknown type, not on the curve). */
export class InvalidKeyError extends Error {
  static override name = 'InvalidKeyError'
  override name = 'InvalidKeyError'
  readonly code = 'ERR_INVALID_KEY'
}

/**
 * Chain data (a message, voucher, actor parameters or return value, or its Lotus JSON form) that
 * does not follow its schema. The message names the structure and the field.
 */
export class MalformedChainDataError extends Error {
  static override name = 'MalformedChainDataError'
  override name = 'MalformedChainDataError'
  readonly code = 'ERR_MALFORMED_CHAIN_DATA'
}

/** Lotus answered a JSON-RPC call with an error, an unusable answer, or could not be reached. */
export class LotusError extends Error {
  static override name = 'LotusError'
  override name = 'LotusError'
  readonly code = 'ERR_LOTUS'
  /** The JSON-RPC method, e.g. `Filecoin.MpoolPush`. */
  readonly method: string

  constructor(method: string, message: string, options?: ErrorOptions) {
    super(`${method}: ${message}`, options)
    this.method = method
  }
}

/** A Lotus answer grew past the client's byte bound before it was complete. */
export class LotusResponseTooLargeError extends Error {
  static override name = 'LotusResponseTooLargeError'
  override name = 'LotusResponseTooLargeError'
  readonly code = 'ERR_LOTUS_RESPONSE_TOO_LARGE'
  readonly method: string

  constructor(method: string, limit: number) {
    super(`${method}: the answer is larger than ${limit} bytes`)
    this.method = method
  }
}

/** A message landed on chain but its receipt carries a non-zero exit code. */
export class MessageFailedError extends Error {
  static override name = 'MessageFailedError'
  override name = 'MessageFailedError'
  readonly code = 'ERR_MESSAGE_FAILED'
  readonly exitCode: number
  readonly method: bigint

  constructor(init: { cid: string; to: string; method: bigint; exitCode: number }) {
    super(`message ${init.cid} (method ${init.method} to ${init.to}) failed on chain with exit code ${init.exitCode}`)
    this.exitCode = init.exitCode
    this.method = init.method
  }
}
