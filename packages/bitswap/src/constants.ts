export const PROTOCOL_120 = '/ipfs/bitswap/1.2.0'
export const PROTOCOL_110 = '/ipfs/bitswap/1.1.0'
export const PROTOCOL_100 = '/ipfs/bitswap/1.0.0'
export const PROTOCOL_LEGACY = '/ipfs/bitswap'
/** Offered in this order when we open a stream, as Go does. */
export const PROTOCOLS = [PROTOCOL_120, PROTOCOL_110, PROTOCOL_100, PROTOCOL_LEGACY]

/** libp2p network.MessageSizeMax: the largest message any Go peer reads, and the spec's MUST. */
export const MAX_MESSAGE_SIZE = 4 * 1024 * 1024
/** The spec's largest block to support; larger ones are never sent (they would not fit a Go reader's budget). */
export const MAX_BLOCK_SIZE = 2 * 1024 * 1024
/**
 * Target size of one outgoing message. boxo targets 16 KiB of work. Small blocks and presences are
 * packed up to this; a 256 KiB UnixFS leaf goes alone, which bench/serve measured as faster for
 * Helia clients than 1 MiB batches (69 -> 79 MB/s with 4 clients): the client starts on a block sooner.
 */
export const DEFAULT_TARGET_MESSAGE_SIZE = 128 * 1024
/** boxo MaxQueuedWantlistEntiresPerPeer. */
export const DEFAULT_MAX_WANTLIST_ENTRIES = 1024
/**
 * Bytes we let sit unsent in one peer's stream before we wait for it to drain (boxo uses 1 MiB
 * outstanding; we allow a few messages: 8 blocks of 256 KiB), so a message is ready whenever the
 * peer's window opens. It was 16 MiB, but a libp2p 3 quirk (onDrain resolving at once after the
 * first drain) meant nothing waited until then; waiting for real, 16 MiB per peer is too much.
 */
export const DEFAULT_MAX_QUEUED_BYTES_PER_PEER = 2 * 1024 * 1024
/**
 * Bytes of blocks kept in one peer's queue when they land while it waits (a miss being retrieved):
 * sent from memory, they skip a disk read and a second hash per block. Beyond this the task keeps
 * only the CID and the block is read from the cache when its turn comes. 32 blocks of 256 KiB.
 */
export const DEFAULT_MAX_HELD_BYTES_PER_PEER = 8 * 1024 * 1024
/** max-bitswap-workers defaults to 1 in the Go config, which serialised every peer; 1 means "use this". */
export const DEFAULT_SEND_CONCURRENCY = 8
/** boxo DefaultWantHaveReplaceSize: a want-have for a block this small gets the block itself. */
export const WANT_HAVE_REPLACE_SIZE = 1024
/** boxo: CIDs longer than this (40 + 128-byte digest) are ignored. */
export const MAX_CID_LENGTH = 168
/** A peer that does not read for this long loses its queued work and its stream. */
export const SEND_TIMEOUT_MS = 10_000
/** Malformed messages a peer may send before we hang up on it. */
export const MAX_MALFORMED_PER_PEER = 5
/** An idle outbound stream is closed after this (the next message opens a new one). */
export const IDLE_STREAM_MS = 30_000
