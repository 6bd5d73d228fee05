import type { TransportProtocol } from '@autoretrieve/routing'

/** Start the next protocol this long after the previous one if it has not delivered (Lassie staggers its protocols similarly). */
export const DEFAULT_PROTOCOL_STAGGER_MS = 100
/** Outstanding want-blocks per Bitswap attempt: enough to fill a loopback pipe with 256 KiB blocks. */
export const DEFAULT_BITSWAP_WINDOW = 32
/** An attempt cancelled because another protocol won may be tried again this many times. */
export const MAX_REQUEUES = 2
/** Weight of the newest observation in a provider's moving averages. */
export const SCORE_ALPHA = 0.3
/**
 * Providers whose scores are remembered; past this the least recently used is forgotten (and
 * scores neutral again). The same bound as routing's miner cache (DEFAULT_MINER_CACHE_SIZE):
 * Filecoin has a few thousand active storage providers, so every one we could meet fits, while a
 * flood of made-up peer IDs from an indexer cannot grow the map past a few MB (a score and its
 * 52-character peer ID key take a few hundred bytes).
 */
export const MAX_SCORED_PROVIDERS = 10_000
/**
 * The order protocols start in a race, each a stagger after the one before: HTTP first (a CAR in
 * one request, cheapest to serve), then Bitswap, then Graphsync (a deal proposal per retrieval).
 */
export const PROTOCOL_ORDER: readonly TransportProtocol[] = Object.freeze(['http', 'bitswap', 'graphsync'])
/**
 * Cache writes an attempt lets run while it reads on: the next blocks are parsed and verified
 * while earlier files are written by libuv's thread pool (4 threads by default). Each block is
 * announced to waiting peers before its write starts, so this bounds memory (8 blocks, at most
 * 16 MiB), not latency. Awaiting every write in turn held the CAR stream still for each one.
 */
export const DEFAULT_CACHE_WRITES_IN_FLIGHT = 8
/**
 * An attempt gives the event loop a turn at least this often while it parses and verifies blocks.
 * A CAR that arrives faster than it is processed is otherwise worked through in one run of
 * microtasks, and the node reads nothing else meanwhile: in bench/miss a Helia client's wants for
 * the leaves waited ~100 ms behind the blocks streaming in after the root.
 */
export const YIELD_EVERY_MS = 2

/*
 * Admission control for misses (issue 13). The config keys peer-retrieval-rate,
 * peer-retrieval-burst, max-concurrent-retrievals and retrieval-queue-size set these for the node.
 */
/**
 * New retrievals one requester (a Bitswap peer, an HTTP client) may start per second, after its
 * burst. A gateway peer fetching many distinct roots starts one retrieval per root, and waits on
 * each for at least a lookup and a first byte (well over 100 ms): 10 a second is more than such a
 * peer asks for, while a peer wanting 2,000 missing blocks starts 100 at once and then 10 a second.
 */
export const DEFAULT_PEER_RETRIEVAL_RATE = 10
/** A requester's burst: a page of 100 images, each its own root, is fetched without a refusal. */
export const DEFAULT_PEER_RETRIEVAL_BURST = 100
/**
 * Requesters whose buckets are remembered (an idle one that has filled up again is forgotten
 * anyway): 10,000 peers or clients at a few hundred bytes each is a few MB.
 */
export const DEFAULT_RATE_LIMITER_MAX_KEYS = 10_000
/**
 * Retrievals at once across all providers when the operator sets none. Each holds cache writes in
 * flight (DEFAULT_CACHE_WRITES_IN_FLIGHT, up to 16 MiB) and a connection per protocol raced; 16
 * at once keeps that within the node's memory budget, and is more than a loopback miss benchmark
 * runs. `max-concurrent-retrievals: 0` removes the cap.
 */
export const DEFAULT_MAX_CONCURRENT_RETRIEVALS = 16
/** Retrievals that wait for one of those slots; past this a retrieval fails at once, `overloaded`. */
export const DEFAULT_MAX_QUEUED_RETRIEVALS = 256

/**
 * Longest a paying attempt waits for the bytes that justify a provider's demand for payment (or,
 * once the DAG is whole, for the provider's last demand). A provider pauses after the bytes it
 * asks payment for, so they are already on their way; a demand they do not cover within this is
 * a provider asking ahead of its data (`overcharged`).
 */
export const DEFAULT_PAYMENT_WAIT_MS = 5_000
