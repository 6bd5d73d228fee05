import type { RetrievalRecord } from '@autoretrieve/interface'

/**
 * One event as lassie's event recorder sent it: its `eventReport` JSON, field for field. Times
 * are RFC 3339; `phase` is always `retrieval` here (there is no query phase, and lassie sent no
 * indexer-phase events).
 */
export interface RecorderEvent {
  retrievalId: string
  instanceId: string
  cid: string
  storageProviderId: string
  phase: 'query' | 'retrieval'
  phaseStartTime: string
  eventName: 'started' | 'connected' | 'first-byte-received' | 'success' | 'failure'
  eventTime: string
  eventDetails?: { error: string } | { receivedSize: number; receivedCids: number; durationMs: number }
}

type Attempt = Extract<RetrievalRecord, { type: 'attempt' }>

/**
 * The events an attempt record stands for. The record of a running attempt is its `started`; the
 * final record carries the rest, each at the time it happened: `connected` and
 * `first-byte-received` when they did, then `success` or `failure` (a cancelled attempt, one that
 * lost the race, is a failure as lassie reported it).
 */
export function toEvents(attempt: Attempt, cid: string, instanceId: string): RecorderEvent[] {
  const base = {
    retrievalId: attempt.retrievalId,
    instanceId,
    cid,
    storageProviderId: attempt.provider,
    phase: 'retrieval' as const,
    phaseStartTime: attempt.startedAt.toISOString()
  }
  const at = (eventName: RecorderEvent['eventName'], time: Date): RecorderEvent => ({
    ...base,
    eventName,
    eventTime: time.toISOString()
  })
  if (attempt.outcome === 'running') return [at('started', attempt.startedAt)]
  const events: RecorderEvent[] = []
  if (attempt.connectedAt) events.push(at('connected', attempt.connectedAt))
  if (attempt.firstByteAt) events.push(at('first-byte-received', attempt.firstByteAt))
  const ended = attempt.endedAt ?? new Date()
  if (attempt.outcome === 'success') {
    events.push({
      ...at('success', ended),
      eventDetails: {
        receivedSize: attempt.bytes,
        receivedCids: attempt.blocks,
        durationMs: ended.getTime() - attempt.startedAt.getTime()
      }
    })
  } else {
    const error =
      attempt.outcome === 'cancelled'
        ? 'retrieval cancelled: another attempt delivered first, or no one waits any more'
        : (attempt.errorMessage ?? attempt.errorClass ?? 'failed')
    events.push({ ...at('failure', ended), eventDetails: { error } })
  }
  return events
}
