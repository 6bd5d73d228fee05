/**
 * The ingest limits: one set for everything that comes in from a provider or an importer (HTTP
 * CAR, Bitswap, Graphsync, `cache import`, `POST /api/v1/cache/import`). Every reader checks a
 * length against these as soon as the length is known, before it buffers the bytes; a broken limit
 * is its own error class (`block_too_large`, `header_too_large`), never a crash or a stall.
 */

/**
 * The largest block accepted or served: 2 MiB, the Bitswap spec's largest block to support (a Go
 * peer's 4 MiB message budget holds one with room for the envelope). Real DAGs chunk at 256 KiB–1 MiB.
 */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024

/**
 * The largest CID accepted in a CAR section: a CIDv1 with a 64-byte digest takes ~70 bytes; room
 * for any real multihash, still nothing a provider can grow memory with.
 */
export const MAX_CID_BYTES = 256

/** The largest CAR section (CID + block) read from a stream: a block at the limit under its CID. */
export const MAX_CAR_SECTION_BYTES = MAX_BLOCK_BYTES + MAX_CID_BYTES

/**
 * The largest CARv1 header read: a real one (version and a root or two, DAG-CBOR) is under 1 KiB;
 * 64 KiB is room for many roots. A 100 MiB header once ended in "Maximum call stack size exceeded".
 */
export const MAX_CAR_HEADER_BYTES = 64 * 1024

/**
 * Bytes one retrieval attempt may hold that are verified but not yet written to the cache (its
 * writes in flight), besides the one section its reader holds. 8 blocks at the limit.
 */
export const MAX_BUFFERED_BYTES_PER_RETRIEVAL = 8 * MAX_BLOCK_BYTES

/**
 * `first-byte-timeout`'s default: an attempt that has not connected and delivered its first verified
 * block this long after it started fails with `timeout`, and the next candidate starts at once.
 * Separate from `retrieval-timeout` (the inactivity timeout once bytes flow). Boost answers
 * in well under a second on a working connection.
 */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 5_000

/**
 * Candidates of one protocol are raced: the next one starts this long after the one before it if
 * no candidate has delivered a verified block yet (at once when the one before fails). A hanging
 * first candidate costs at most this; a provider slower than this to its first block costs a
 * second, cancelled request.
 */
export const CANDIDATE_STAGGER_MS = 1_000

/** Attempts of one protocol running at once within a retrieval (the stagger starts at most this many). */
export const MAX_RACING_ATTEMPTS_PER_PROTOCOL = 3

/**
 * The largest retrieval query answer (`/fil/retrieval/qry/1.0.0` QueryResponse) read: a real one
 * (status, sizes, an address, two prices, a message) is under 1 KiB; 64 KiB leaves room for a long
 * message and nothing more. A longer answer is refused as its length is read, before it is buffered.
 */
export const MAX_QUERY_RESPONSE_BYTES = 64 * 1024

/**
 * How long a retrieval query may take, dial to answer. Boost answers from its index at once; its own
 * deadlines are 10 s to read the query and 10 s to write the answer. A query runs beside the other
 * protocols, so a slow one only delays its own Graphsync candidate.
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 5_000
