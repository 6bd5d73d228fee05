import type { Logger, RetrievalRecord } from '@autoretrieve/interface'
import type { PolicySnapshot } from '@autoretrieve/policy'
import type { GatewayCache, GatewayRetriever } from './blocks.ts'

export type { GatewayCache, GatewayRetriever, MissResult } from './blocks.ts'

/** The `format` label of the gateway metrics: `none` for a request refused before a format was known. */
export type GatewayFormat = 'raw' | 'car' | 'none'

/** One finished request, for metrics. Called synchronously; keep it cheap. */
export interface GatewayRequestInfo {
  format: GatewayFormat
  status: number
  /** From the request to the first byte of the answer's body (or its headers, for a body-less answer). */
  ttfbMs: number
  bytes: number
  durationMs: number
}

export interface GatewayEvents {
  onRequest?(info: GatewayRequestInfo): void
}

export interface GatewayComponents {
  cache: GatewayCache
  /** Absent when retrieval is disabled: a miss is a 404. */
  retriever?: GatewayRetriever
  policy: {
    current(): PolicySnapshot
    subscribe(listener: (next: PolicySnapshot) => void): () => void
  }
  /** Where request records go (the store's RecordWriter). Must not throw. */
  records?: { record(event: RetrievalRecord): void }
  events?: GatewayEvents
  logger?: Logger
}

export interface GatewayInit {
  /** @default 90 s (DEFAULT_MISS_TIMEOUT_MS) */
  missTimeoutMs?: number
  /** @default 8 (DEFAULT_MAX_RETRIEVALS_PER_REQUEST) */
  maxRetrievalsPerRequest?: number
  /** @default 64 (DEFAULT_MAX_PATH_SEGMENTS) */
  maxPathSegments?: number
  /** @default 4 (DEFAULT_READ_AHEAD) */
  readAhead?: number
  /** A client that takes nothing for this long is cut off. @default 30 s (DEFAULT_SEND_TIMEOUT_MS) */
  sendTimeoutMs?: number
}

export interface GatewayStats {
  /** Requests answered (any status), and those in flight now. */
  requests: number
  active: number
  /** Body bytes and blocks sent. */
  bytesSent: number
  blocksSent: number
  /** Requests whose blocks all came from the cache, and those that waited on a retrieval. */
  hits: number
  misses: number
  /** Answers with a 4xx or 5xx status, and streams cut after their 200. */
  errors: number
}
