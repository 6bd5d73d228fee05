/** Defaults of the gateway's `init`, each with where the number comes from. */

/** Longest a miss waits for its retrieval to deliver a block: the retriever's own inactivity bound (60 s) plus slack for the lookup. */
export const DEFAULT_MISS_TIMEOUT_MS = 90_000

/**
 * Retrievals one request may start or join, one after another: a DAG whose children the cache
 * lacks after its first retrieval ended needs another, but a provider that keeps ending early
 * must not keep a request looping.
 */
export const DEFAULT_MAX_RETRIEVALS_PER_REQUEST = 8

/** Path segments after the CID: deeper paths are refused (400) before any block is read. */
export const DEFAULT_MAX_PATH_SEGMENTS = 64

/** Blocks read ahead of the one being written: enough to hide a disk read, bounded in memory (4 × 2 MiB at worst). */
export const DEFAULT_READ_AHEAD = 4

/**
 * A client that reads nothing for this long is cut off: it holds a block and a socket, and the
 * read-ahead, for as long as it waits. Bitswap's send timeout (a peer that does not read for 10 s
 * loses its queue) is for machines; 30 s leaves room for a slow HTTP client.
 */
export const DEFAULT_SEND_TIMEOUT_MS = 30_000

/** Cache-Control for /ipfs/ answers: content-addressed, so immutable (the spec's, as frisbii sends it). */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=29030400, immutable'

export const CAR_TYPE = 'application/vnd.ipld.car'
export const RAW_TYPE = 'application/vnd.ipld.raw'

/** The record's protocol and the prefix of the "who asked" of a gateway client. */
export const GATEWAY_PROTOCOL = 'http-gateway'
