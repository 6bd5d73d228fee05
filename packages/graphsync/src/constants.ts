/** The only Graphsync protocol current go-graphsync, Boost and Lassie speak (graphsync.md §1). */
export const PROTOCOL_GRAPHSYNC = '/ipfs/graphsync/2.0.0'

/** go-graphsync's messagequeue starts a new message past 512 KiB of blocks (`maxBlockSize`). */
export const TARGET_MESSAGE_BLOCK_BYTES = 512 * 1024

/** go-graphsync processes 6 incoming requests at once by default (Boost keeps the default). */
export const DEFAULT_MAX_CONCURRENT_RESPONSES = 6

/** go-graphsync's per-peer allocator for queued outgoing blocks: 16 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES_PER_PEER = 16 * 1024 * 1024

/**
 * Received blocks no traversal has reached yet, per peer. A responder runs at most a few messages
 * ahead of our walk; past this it is flooding us.
 */
export const DEFAULT_MAX_PENDING_BYTES_PER_PEER = 64 * 1024 * 1024

/**
 * Received blocks waiting for our walk past which we stop reading the responder's stream until
 * they fall to half this: go-graphsync sends as fast as the connection allows (a 192 MiB DAG from
 * the Go responder on loopback ran 64 MiB ahead of the node's verified writes), so the walk, not
 * the responder, must set the pace. Half the flood bound above, so a paused stream's in-flight
 * data (a yamux window, 16 MiB at most) never reaches it.
 */
export const DEFAULT_PAUSE_PENDING_BYTES_PER_PEER = 32 * 1024 * 1024

/** Bytes a paused stream may buffer: yamux's largest stream window (16 MiB) and one 4 MiB frame. */
export const PAUSED_READ_BUFFER_BYTES = 20 * 1024 * 1024

/** Recently consumed blocks kept to resolve de-duplicated "present" links from other requests. */
export const DEFAULT_RECENT_BYTES_PER_PEER = 16 * 1024 * 1024

/** How long a "present" link may wait for its block to arrive on another request's messages. */
export const DEFAULT_PRESENT_BLOCK_WAIT_MS = 2_000

/** go-graphsync v0.17+ resets inbound streams silent for 10 s: close ours after 1 s idle. */
export const IDLE_STREAM_MS = 1_000

/** Bound on opening a stream and writing one message. */
export const SEND_TIMEOUT_MS = 30_000
