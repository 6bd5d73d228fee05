/**
 * @autoretrieve/graphsync: Graphsync 2.0.0 (`/ipfs/graphsync/2.0.0`) over libp2p, both sides. The
 * requester sends a request and yields the blocks of its own walk of the selector, checking every
 * link the responder names against it; the responder serves requests from a blockstore, a few at
 * a time, with hooks for data-transfer validation and for pausing a response before a block
 * (the test stand-ins for Boost and a paying-retrieval provider use them). Also the
 * wire codec (DAG-CBOR messages, varint frames), the selector subset Lassie and Boost use, and the
 * DAG-CBOR helpers Filecoin data-transfer shares.
 */
export { BinaryString, decodeDagCbor, decodeDagCborFirst, encodeDagCbor } from './cbor.ts'
export * from './constants.ts'
export * from './errors.ts'
export { createGraphsync } from './graphsync.ts'
export {
  cidPrefix,
  decodeMessage,
  type Extensions,
  encodeMessage,
  encodeMessageParts,
  type GraphsyncBlock,
  type GraphsyncMessage,
  type GraphsyncRequest,
  type GraphsyncResponse,
  isSuccessStatus,
  isTerminalStatus,
  LinkAction,
  type LinkMetadatum,
  messageFromNode,
  messageToNode,
  RequestType,
  ResponseStatus
} from './message.ts'
export {
  DEFAULT_MAX_LINKS,
  decodeNode,
  EXPLORE_ALL_RECURSIVELY,
  type LinkLoader,
  MATCH_ROOT,
  parseSelector,
  pathSelector,
  type Selector,
  type TraversalResult,
  traverse
} from './selector.ts'
export type {
  BlockGate,
  Graphsync,
  GraphsyncComponents,
  GraphsyncInit,
  GraphsyncLibp2p,
  GraphsyncRequestResult,
  ReceivedBlock,
  RequestOptions,
  ResponsePause,
  ResumeResult,
  ValidationResult
} from './types.ts'
export { blockCid, blockToWire, encodeFrame, MAX_MESSAGE_BYTES, readFrames } from './wire.ts'
