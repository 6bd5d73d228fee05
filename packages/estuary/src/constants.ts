/**
 * Bound on each Estuary request (headers and body). The Go node used http.DefaultClient, which
 * has none, so a hung Estuary stalled its heartbeat for good; Estuary answers in milliseconds.
 */
export const DEFAULT_ESTUARY_TIMEOUT_MS = 10_000
/** Estuary's answers are a few hundred bytes; a body past this is not Estuary talking. */
export const MAX_ESTUARY_ANSWER_BYTES = 64 * 1024
/** Where the Go node looked up its public IP for registration (field `query`). */
export const DEFAULT_IP_LOOKUP_URL = 'http://ip-api.com/json'
/** Estuary's heartbeat route (specs/estuary-autoretrieve.md §3), appended to its API base. */
export const HEARTBEAT_PATH = '/autoretrieve/heartbeat'
/** Estuary's registration route (specs/estuary-autoretrieve.md §2). */
export const REGISTER_PATH = '/admin/autoretrieve/init'
/** Floor on the delay between beats, so an Estuary answering "0s" or "1ns" cannot make us spin. */
export const MIN_HEARTBEAT_DELAY_MS = 100
