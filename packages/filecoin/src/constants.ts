/** The standalone data-transfer protocol: the only one go-data-transfer v2 and Boost speak. */
export const DATA_TRANSFER_PROTOCOL = '/fil/datatransfer/1.2.0'

/** Graphsync extension carrying a data-transfer message in requests (and, generically, responses). */
export const EXTENSION_DATA_TRANSFER = 'fil/data-transfer/1.1'

/** Graphsync extension a provider attaches when its incoming-request hook answers. */
export const EXTENSION_INCOMING_REQUEST = 'fil/data-transfer/incoming-request/1.1'

/** Graphsync extension a provider attaches to outgoing blocks (pause for payment, for one). */
export const EXTENSION_OUTGOING_BLOCK = 'fil/data-transfer/outgoing-block/1.1'

/**
 * Where a client looks for the provider's data-transfer message in a Graphsync response, in
 * order: the same message may sit under two names (go-data-transfer's client reads them so).
 */
export const TRANSFER_EXTENSION_LOOKUP_ORDER: readonly string[] = Object.freeze([
  EXTENSION_INCOMING_REQUEST,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_OUTGOING_BLOCK
])

/** Voucher type names (`VTyp`) from go-retrieval-types; there is no "/2". */
export const VoucherType = Object.freeze({
  DealProposal: 'RetrievalDealProposal/1',
  DealResponse: 'RetrievalDealResponse/1',
  DealPayment: 'RetrievalDealPayment/1'
} as const)
export type VoucherType = (typeof VoucherType)[keyof typeof VoucherType]

/**
 * Largest DAG-CBOR value buffered while reading `/fil/datatransfer/1.2.0`: the same 4 MiB bound
 * go-graphsync puts on a message (a data-transfer message is a few hundred bytes; the bound only
 * stops a peer from making us buffer without end).
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

/**
 * Longest wait for one message on a data-transfer stream: go-data-transfer
 * (network/libp2p_impl.go) sets a 10 s read deadline before decoding each message.
 */
export const DEFAULT_MESSAGE_TIMEOUT_MS = 10_000
