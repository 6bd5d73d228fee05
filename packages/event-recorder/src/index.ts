/**
 * @autoretrieve/event-recorder: retrieval events as the Go autoretrieve's event recorder (lassie's)
 * sent them (specs/estuary-autoretrieve.md §8): the retriever's records become per-phase events
 * (`started`, `connected`, `first-byte-received`, `success`, `failure`), queued in bounded memory
 * and POSTed in batches `{"events":[…]}` to `event-recorder-endpoint-url` with HTTP Basic auth
 * from `<data-dir>/eventrecorderauth`. Recording never waits and never throws; what cannot be
 * queued or posted is dropped and counted.
 */

export { type RecorderEvent, toEvents } from './events.ts'
export { createEventRecorder, readEventRecorderAuth } from './recorder.ts'
export type { EventRecorder, EventRecorderInit, EventRecorderStats } from './types.ts'
