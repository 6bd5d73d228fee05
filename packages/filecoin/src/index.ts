/**
 * @autoretrieve/filecoin: retrievals from Filecoin storage providers over Graphsync with
 * data-transfer, as Lassie does from Boost, free or paid. The data-transfer messages and retrieval
 * vouchers (DAG-CBOR codecs, Filecoin big-ints, the `RetrievalDealPayment/1` a payer sends), the
 * deal proposal (free, or at the provider's queried terms), pull request and voucher request a
 * client sends, what a provider's answer means (`interpretTransferMessage`) and how its failures
 * are classed for records and metrics, the `/fil/datatransfer/1.2.0` stream reader, and
 * `createFilecoinRetrievalTransport`: Graphsync plus the data-transfer handler (routing each
 * provider message to its transfer), started on first use, and the sending of our own messages.
 */
export { decodeBigIntBytes, encodeBigIntBytes } from './big-int.ts'
export { classifyProviderError, ProviderErrorClass } from './classify.ts'
export {
  DATA_TRANSFER_PROTOCOL,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MESSAGE_TIMEOUT_MS,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_INCOMING_REQUEST,
  EXTENSION_OUTGOING_BLOCK,
  TRANSFER_EXTENSION_LOOKUP_ORDER,
  VoucherType
} from './constants.ts'
export {
  DealFailedError,
  DealRejectedError,
  InvalidBigIntBytesError,
  MalformedTransferMessageError,
  PaymentRequiredError,
  type ProviderFailureDetails,
  QueryFailedError,
  TransferCancelledError,
  TransferMessageTooLargeError,
  TransferReadTimeoutError,
  TruncatedTransferMessageError
} from './errors.ts'
export {
  type ChannelId,
  decodeTransferMessage,
  emptyChannelId,
  encodeTransferMessage,
  MessageType,
  type TransferMessage,
  type TransferRequest,
  type TransferResponse,
  transferMessageFromNode,
  transferMessageToNode
} from './message.ts'
export {
  findTransferMessage,
  interpretTransferMessage,
  type TransferOutcome,
  type TransferOutcomeKind,
  transferOutcomeError
} from './outcome.ts'
export {
  type DealPayment,
  dealPaymentFromNode,
  dealPaymentToNode,
  decodeDealPayment,
  encodeDealPayment
} from './payment.ts'
export {
  decodeQueryResponse,
  decodeRetrievalQuery,
  encodeQueryResponse,
  encodeRetrievalQuery,
  isPricedAsk,
  QueryItemStatus,
  type QueryProviderOptions,
  type QueryResponse,
  QueryResponseStatus,
  type QueryStream,
  queryProvider,
  queryTotalCost,
  RETRIEVAL_QUERY_PROTOCOL,
  type RetrievalQuery
} from './query.ts'
export {
  createDataTransferReceiver,
  type DataTransferReceiver,
  type DataTransferReceiverComponents,
  type DataTransferReceiverInit,
  DEFAULT_MAX_INBOUND_TRANSFER_STREAMS,
  DEFAULT_MAX_ROUTED_TRANSFERS,
  type TransferMessageListener
} from './receiver.ts'
export {
  createFreeRetrievalProposal,
  createPaidRetrievalProposal,
  createTransferPullRequest,
  createVoucherRequest,
  type FreeRetrievalProposalInit,
  type PaidRetrievalProposalInit,
  type TransferPullRequestInit,
  type VoucherRequestInit
} from './retrieval.ts'
export { type ByteListLike, type ReadTransferMessagesOptions, readTransferMessages } from './stream.ts'
export {
  createFilecoinRetrievalTransport,
  type FilecoinRetrievalTransport,
  type FilecoinRetrievalTransportComponents,
  SEND_TRANSFER_MESSAGE_TIMEOUT_MS
} from './transport.ts'
export {
  type DealParams,
  type DealProposal,
  type DealResponse,
  DealStatus,
  dealProposalFromNode,
  dealProposalToNode,
  dealResponseFromNode,
  dealResponseToNode,
  decodeDealProposal,
  decodeDealResponse,
  encodeDealProposal,
  encodeDealResponse
} from './voucher.ts'
