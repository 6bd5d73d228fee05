/**
 * @autoretrieve/filecoin: free retrievals from Filecoin storage providers over Graphsync with
 * data-transfer, as Lassie does from Boost. The data-transfer messages and retrieval vouchers
 * (DAG-CBOR codecs, Filecoin big-ints), the free deal proposal and pull request a client sends,
 * what a provider's answer means (`interpretTransferMessage`) and how its failures are classed
 * for records and metrics, the `/fil/datatransfer/1.2.0` stream reader, and
 * `createFilecoinRetrievalTransport`: Graphsync plus the data-transfer handler, started on first use.
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
  DEFAULT_MAX_INBOUND_TRANSFER_STREAMS
} from './receiver.ts'
export {
  createFreeRetrievalProposal,
  createTransferPullRequest,
  type FreeRetrievalProposalInit,
  type TransferPullRequestInit
} from './retrieval.ts'
export { type ByteListLike, type ReadTransferMessagesOptions, readTransferMessages } from './stream.ts'
export {
  createFilecoinRetrievalTransport,
  type FilecoinRetrievalTransport,
  type FilecoinRetrievalTransportComponents
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
