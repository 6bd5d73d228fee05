/** Per Lotus call (all but StateWaitMsg): the routing package's Lotus timeout is 10 s; writes may queue longer. */
export const DEFAULT_LOTUS_TIMEOUT_MS = 30_000

/**
 * How long StateWaitMsg may block. Mainnet epochs are 30 s and Lotus waits for `confidence`
 * epochs after inclusion; a message may sit in the pool a few epochs first.
 */
export const DEFAULT_WAIT_TIMEOUT_MS = 15 * 60_000

/** Epochs a message must be buried under before StateWaitMsg answers (lotus build.MessageConfidence). */
export const DEFAULT_MESSAGE_CONFIDENCE = 5

/**
 * The largest Lotus answer read. The calls here answer a few KiB (ChainHead with its block
 * headers is the largest, ~20 KiB on mainnet); 2 MiB leaves room without letting a broken
 * endpoint fill memory.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024
