/**
 * @autoretrieve/bitswap: Bitswap 1.2.0 / 1.1.0 / 1.0.0 spoken by us. A server that answers wants
 * from the block cache, hands misses to a pluggable handler (the retrieval engine), delivers late
 * blocks to every peer still wanting them and packs its answers into messages up to the 4 MiB
 * limit; a client for one provider's blocks, whose answers reach it through the server; and the
 * wire codec they share.
 */

export { type BitswapSession, createBitswapClient, type SessionEvent } from './client.ts'
export {
  cidFromPrefix,
  type DecodedMessage,
  decodeMessage,
  encodeMessage,
  type OutgoingMessage,
  PresenceType,
  type WantEntry,
  WantType,
  type WireFormat
} from './codec.ts'
export {
  MAX_BLOCK_SIZE,
  MAX_MESSAGE_SIZE,
  PROTOCOL_100,
  PROTOCOL_110,
  PROTOCOL_120,
  PROTOCOL_LEGACY,
  PROTOCOLS
} from './constants.ts'
export { BlockTooLargeError, MalformedMessageError, MessageTooLargeError } from './errors.ts'
export { createBitswapServer } from './server.ts'
export type * from './types.ts'
