import type { RetrievalRecord } from '@autoretrieve/interface'

export interface EventRecorderInit {
  /** Where batches are POSTed. */
  url: string
  /** `instance-name`: every event's `instanceId`. */
  instanceName: string
  /** The trimmed contents of `<data-dir>/eventrecorderauth`, sent as `Authorization: Basic <it>`. */
  authorization?: string
  /** Events held while posts are under way; past this, new events are dropped. @default 10000 */
  maxQueued?: number
  /** Events in one POST at most. @default 1000 */
  maxBatch?: number
  /** POSTs at once (lassie: 5). @default 5 */
  concurrency?: number
  /** A POST not answered in this long is abandoned and its events dropped (lassie: 5 s). @default 5000 */
  timeoutMs?: number
}

export interface EventRecorderStats {
  /** Events the recorder accepted (2xx). */
  sent: number
  /** Events dropped: the queue was full, or their POST failed, timed out or was refused. */
  dropped: number
  /** Events waiting for a poster. */
  queued: number
}

export interface EventRecorder {
  /** Takes one of the retriever's records; synchronous, never throws, never waits. */
  record(record: RetrievalRecord): void
  stats(): EventRecorderStats
  /** Abandons the posts under way; later records are ignored. */
  stop(): Promise<void>
}
