export { BinaryString, decodeDagCbor, decodeDagCborFirst, encodeDagCbor } from './cbor.ts'
export * from './constants.ts'
export * from './errors.ts'
export {
  createGraphsync,
  type Graphsync,
  type GraphsyncComponents,
  type GraphsyncInit,
  type GraphsyncRequestResult,
  type ReceivedBlock,
  type RequestOptions,
  type ValidationResult
} from './graphsync.ts'
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
export { blockCid, blockToWire, encodeFrame, MAX_MESSAGE_BYTES, readFrames } from './wire.ts'
