/**
 * Defaults for the store and the record writer. Each says where its number comes from.
 */

/**
 * Events the record writer holds while the database is away. A busy node records a few events
 * per retrieval (start, candidates, one or two attempts, finish) and tens of refusals a second at
 * worst, so 10,000 covers minutes of outage in a few MiB of memory (the brief's figure).
 */
export const DEFAULT_MAX_BUFFERED = 10_000

/**
 * Events per transaction. Batches of 1000 measured about 43k rows/s on postgres-js and 33k on
 * PGlite (ARCHITECTURE.md); 500 keeps one transaction well under 50 ms on either.
 */
export const DEFAULT_BATCH_SIZE = 500

/** How long an event waits before its batch is written: records are history, not live state. */
export const DEFAULT_FLUSH_INTERVAL_MS = 250

/** Backoff after a failed flush doubles up to this: the worst delay before writing resumes. */
export const DEFAULT_MAX_BACKOFF_MS = 5_000

/** `stop()` waits at most this long for the last flush, so a dead database cannot hold up shutdown. */
export const DEFAULT_STOP_FLUSH_TIMEOUT_MS = 3_000

/** `ping()` answers within this, so /readyz says "not ready" instead of hanging on a dead database. */
export const DEFAULT_PING_TIMEOUT_MS = 2_000

/** postgres-js pool size: the node's writers are batched, so a handful of connections is plenty. */
export const DEFAULT_POOL_SIZE = 10

/** Seconds to wait for a TCP connection to PostgreSQL (postgres-js `connect_timeout`). */
export const DEFAULT_CONNECT_TIMEOUT_S = 10

/** The change feed re-LISTENs after an outage with backoff from 100 ms doubling up to this. */
export const DEFAULT_LISTEN_RETRY_MAX_MS = 2_000

/** Largest page `retrievals.list` returns, whatever limit is asked for. */
export const MAX_LIST_LIMIT = 500

/** Page size when none is asked for. */
export const DEFAULT_LIST_LIMIT = 50

/** `explain` shows at most this many retrievals and refusals (newest first). */
export const EXPLAIN_RETRIEVALS_LIMIT = 20
export const EXPLAIN_REFUSALS_LIMIT = 100
