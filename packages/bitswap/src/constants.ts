import { MAX_BLOCK_BYTES } from '@autoretrieve/interface'

export const PROTOCOL_120 = '/ipfs/bitswap/1.2.0'
export const PROTOCOL_110 = '/ipfs/bitswap/1.1.0'
export const PROTOCOL_100 = '/ipfs/bitswap/1.0.0'
export const PROTOCOL_LEGACY = '/ipfs/bitswap'
/** Offered in this order when we open a stream, as Go does. */
export const PROTOCOLS = [PROTOCOL_120, PROTOCOL_110, PROTOCOL_100, PROTOCOL_LEGACY]

/** libp2p network.MessageSizeMax: the largest message any Go peer reads, and the spec's MUST. */
export const MAX_MESSAGE_SIZE = 4 * 1024 * 1024
/**
 * The spec's largest block to support; larger ones are never sent (they would not fit a Go reader's
 * budget) and a larger one received fails the retrieval attempt `block_too_large`. The node-wide
 * ingest limit (packages/interface limits.ts).
 */
export const MAX_BLOCK_SIZE = MAX_BLOCK_BYTES
/**
 * Target size of one outgoing message: as full as the 4 MiB limit allows (less room for the
 * envelope), as the Helia server packs. Every message costs a Helia client a fixed amount of CPU
 * (a yamux frame and its window update, an lp/protobuf decode, event dispatch): bench/serve with
 * 4 clients on 2 cores measured 1.36 s of client CPU per 64 MiB with one 256 KiB block a message
 * against 0.98 s with 15 (and the Helia server's 0.96 s). Clients are the bottleneck there.
 */
export const DEFAULT_TARGET_MESSAGE_SIZE = MAX_MESSAGE_SIZE - 64 * 1024
/**
 * A want-have for a block of at most this many bytes is answered with the block, not HAVE: boxo's
 * DefaultWantHaveReplaceSize (bitswap/internal/defaults/defaults.go), which kubo's client expects.
 * Answering HAVE cost kubo one more round trip per small block: its `dag export` of the HAMT vector
 * (243 blocks, most a few hundred bytes) took 10.5-11.3 s from this node against 5.3-6.1 s from a
 * kubo, and 5.4-5.6 s once this node answered as boxo does (apps/autoretrieve/test/interop-kubo.test.ts).
 */
export const WANT_HAVE_REPLACE_SIZE = 1024
/** A block's size guess when neither the cache's index nor the peer's average knows it (a common UnixFS leaf). */
export const UNKNOWN_BLOCK_ESTIMATE = 256 * 1024
/**
 * Bytes of blocks taken lately (for any peer) that a peer's queue serves first among equal
 * priorities: as much as the block source keeps in memory (the cache's hot set), so what is
 * preferred is still there, and peers fetching one DAG move through it together.
 */
export const DEFAULT_HOT_BYTES = 16 * 1024 * 1024
/** boxo MaxQueuedWantlistEntiresPerPeer. */
export const DEFAULT_MAX_WANTLIST_ENTRIES = 1024
/**
 * Bytes of blocks kept in one peer's queue when they land while it waits (a miss being retrieved):
 * sent from memory, they skip a disk read and a second hash per block. Beyond this the task keeps
 * only the CID and the block is read from the cache when its turn comes. A provider streams a DAG
 * faster than one Helia client takes it (bench/miss: ~300 against ~70 MB/s), so a 64 MiB DAG
 * lands long before its last blocks are sent; with 8 MiB held, three quarters of them went to
 * disk and were read back and hashed again. 256 blocks of 256 KiB.
 */
export const DEFAULT_MAX_HELD_BYTES_PER_PEER = 64 * 1024 * 1024
/** Bytes held across all peers' queues: the bound on what waiting peers keep in memory. */
export const DEFAULT_MAX_HELD_BYTES = 128 * 1024 * 1024
/** max-bitswap-workers defaults to 1 in the Go config, which serialised every peer; 1 means "use this". */
export const DEFAULT_SEND_CONCURRENCY = 8
/** boxo: CIDs longer than this (40 + 128-byte digest) are ignored. */
export const MAX_CID_LENGTH = 168
/**
 * A stream opened ahead of its message and not used for this long is closed: well inside the 10 s
 * a Helia client waits on a quiet stream, and long enough for a miss's retrieval to deliver.
 */
export const SPARE_IDLE_MS = 2_000
/** After a batch that could not be sent, the peer's queue is tried again after this, doubling to RETRY_MAX_MS. */
export const RETRY_BASE_MS = 50
export const RETRY_MAX_MS = 2_000
/** A peer that does not read for this long loses its queued work and its stream. */
export const SEND_TIMEOUT_MS = 10_000
/** Malformed messages a peer may send before we hang up on it. */
export const MAX_MALFORMED_PER_PEER = 5
