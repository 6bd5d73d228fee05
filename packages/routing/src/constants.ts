/**
 * How long one indexer/Estuary lookup may take, headers and body. Lassie's indexer client allows a
 * minute, but a Bitswap peer waiting on a miss gives up long before that; cid.contact answers in
 * well under a second, so 5 s leaves room for a slow answer without holding wants for nothing.
 */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 5_000

/** A miner's peer ID and addresses change only with an on-chain message: keep Lotus answers an hour. */
export const DEFAULT_MINER_CACHE_TTL_MS = 60 * 60_000

/** A failed resolution is retried after this, not on every want (the Go node retried on every lookup). */
export const DEFAULT_MINER_FAILURE_TTL_MS = 30_000

/** Lotus answers StateMinerInfo from state in milliseconds; a public gateway can take a few seconds. */
export const DEFAULT_LOTUS_TIMEOUT_MS = 10_000

/** At most this many miners are remembered; Filecoin has a few thousand active miners. */
export const DEFAULT_MINER_CACHE_SIZE = 10_000

/** The Lotus endpoint the Go autoretrieve used when FULLNODE_API_INFO was unset. */
export const DEFAULT_FULLNODE_API_INFO = 'wss://api.chain.love'

/** go-libipni caps an unknown metadata protocol's payload at 1024 bytes. */
export const MAX_UNKNOWN_METADATA_BYTES = 1024

/** An NDJSON line longer than this is not a provider record: refuse instead of buffering without end. */
export const MAX_NDJSON_LINE_BYTES = 1024 * 1024

/** A JSON answer larger than this is refused (cid.contact answers are a few KiB; 100 providers ~ 50 KiB). */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024

/** Miner address book: first retry of an address Lotus could not resolve (doubling from here). */
export const DEFAULT_MINER_RETRY_MS = 5_000

/** Miner address book: the longest wait between two retries of an unresolved address. */
export const DEFAULT_MINER_MAX_RETRY_MS = 60_000

/*
 * Lookup guard (issue 13: one peer's 2,000 wants for missing blocks made 1,024 indexer lookups).
 */
/**
 * A CID the indexer knew nothing about is not asked for again for this long. Short: content is
 * announced to IPNI continually, and a provider that announces a minute from now should be found
 * then; long enough that a peer repeating its wants (Helia re-sends its wantlist every few
 * seconds) costs no lookup.
 */
export const DEFAULT_NEGATIVE_TTL_MS = 60_000
/** CIDs remembered as unknown; an entry is a ~50-byte key, so 10,000 of them take about 1 MB. */
export const DEFAULT_NEGATIVE_MAX_ENTRIES = 10_000
/**
 * Lookups in flight at once. cid.contact answers in well under a second (DEFAULT_LOOKUP_TIMEOUT_MS),
 * so 8 at once is some tens of lookups a second: more than the per-peer admission rate of a few
 * peers together, and a burst that cannot open hundreds of sockets to the indexer.
 */
export const DEFAULT_MAX_CONCURRENT_LOOKUPS = 8
/** Lookups waiting for one of those; past this a lookup fails at once (LookupQueueFullError). */
export const DEFAULT_MAX_QUEUED_LOOKUPS = 512
