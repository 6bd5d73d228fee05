/**
 * @autoretrieve/interface: what every package shares and none owns. The logger shape, the
 * cancellation options (libp2p's own `AbortOptions`), the retrieval error classes, and the two keys
 * a CID's content is known by: `multihashKey` in memory, `cidKey` on disk and in the database; and
 * the retrieval record, which the retriever writes and the store keeps.
 */
export type { AbortOptions } from '@libp2p/interface'
export { ERROR_CLASSES, type ErrorClass, isErrorClass } from './error-class.ts'
export { cidKey, multihashKey } from './keys.ts'
export {
  CANDIDATE_STAGGER_MS,
  DEFAULT_FIRST_BYTE_TIMEOUT_MS,
  DEFAULT_QUERY_TIMEOUT_MS,
  MAX_BLOCK_BYTES,
  MAX_BUFFERED_BYTES_PER_RETRIEVAL,
  MAX_CAR_HEADER_BYTES,
  MAX_CAR_SECTION_BYTES,
  MAX_CID_BYTES,
  MAX_QUERY_RESPONSE_BYTES,
  MAX_RACING_ATTEMPTS_PER_PROTOCOL
} from './limits.ts'
export { type Logger, silentLogger } from './logger.ts'
export type {
  AttemptOutcome,
  CandidateSourceName,
  CandidateVerdict,
  RetrievalProtocolName,
  RetrievalRecord
} from './retrieval-record.ts'
