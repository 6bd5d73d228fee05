import { Hono } from 'hono'
import { serveLoopback } from './serve-http.ts'

/** How the stand-in answers: accept, never answer (the POST hangs), or refuse with HTTP 503. */
export type EventRecorderFault = 'none' | 'hang' | 'refuse'

export interface EventRecorderInit {
  /** The Basic credential a POST must carry (`Authorization: Basic <it>`); undefined = none asked. */
  authorization?: string
  fault?: EventRecorderFault
}

/** One event as lassie's recorder posts it (specs/estuary-autoretrieve.md §8). */
export interface RecordedEvent {
  retrievalId: string
  instanceId: string
  cid: string
  storageProviderId: string
  phase: string
  phaseStartTime: string
  eventName: string
  eventTime: string
  eventDetails?: Record<string, unknown>
}

export interface EventRecorderStandIn {
  url: string
  /** Events from accepted POSTs, in arrival order. */
  events: RecordedEvent[]
  /** Every POST by what it was answered: accepted, refused for auth (401), malformed (400), faulted. */
  posts: { accepted: number; unauthorized: number; malformed: number; faulted: number }
  /** Why each malformed POST was refused. */
  problems: string[]
  setFault(fault: EventRecorderFault): void
  close(): Promise<void>
}

const PHASES = new Set(['query', 'retrieval'])
const EVENT_NAMES = new Set([
  'candidates-found',
  'candidates-filtered',
  'started',
  'connected',
  'query-asked',
  'query-asked-filtered',
  'proposed',
  'accepted',
  'first-byte-received',
  'failure',
  'success'
])
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** What is wrong with one event of a batch, or undefined when it has the shape lassie's recorder gave it. */
function problemOf(event: unknown, i: number): string | undefined {
  if (event === null || typeof event !== 'object') return `events[${i}] is not an object`
  const e = event as Record<string, unknown>
  for (const field of ['retrievalId', 'instanceId', 'cid', 'storageProviderId', 'phase', 'eventName'])
    if (typeof e[field] !== 'string' || e[field] === '') return `events[${i}].${field} is missing`
  for (const field of ['phaseStartTime', 'eventTime'])
    if (typeof e[field] !== 'string' || !RFC3339.test(e[field] as string))
      return `events[${i}].${field} is not RFC 3339`
  if (!PHASES.has(e.phase as string)) return `events[${i}].phase ${e.phase} is not query or retrieval`
  if (!EVENT_NAMES.has(e.eventName as string)) return `events[${i}].eventName ${e.eventName} is not one of lassie's`
  if (e.eventDetails !== undefined && (e.eventDetails === null || typeof e.eventDetails !== 'object'))
    return `events[${i}].eventDetails is not an object`
  if (e.eventName === 'failure' && typeof (e.eventDetails as { error?: unknown })?.error !== 'string')
    return `events[${i}]: a failure without eventDetails.error`
  if (e.eventName === 'success') {
    const d = e.eventDetails as Record<string, unknown> | undefined
    for (const field of ['receivedSize', 'receivedCids', 'durationMs'])
      if (typeof d?.[field] !== 'number') return `events[${i}]: a success without eventDetails.${field}`
  }
  return undefined
}

/**
 * A stand-in for the event recorder service the Go autoretrieve posted to (lassie's
 * eventrecorder client): takes `POST /` with `{"events":[…]}` (application/json), checks the
 * Basic credential and every event's shape, and keeps the events for a test to read. Faults: a
 * recorder that never answers (`hang`) or refuses (`refuse`, HTTP 503).
 */
export async function startEventRecorder(init: EventRecorderInit = {}): Promise<EventRecorderStandIn> {
  let fault = init.fault ?? 'none'
  const events: RecordedEvent[] = []
  const posts = { accepted: 0, unauthorized: 0, malformed: 0, faulted: 0 }
  const problems: string[] = []
  const hanging = new Set<() => void>()
  const app = new Hono()
  app.post('/', async (c) => {
    if (fault === 'hang') {
      posts.faulted++
      // Answered only when the stand-in closes: the client's own timeout has to give up.
      await new Promise<void>((resolve) => hanging.add(resolve))
      return c.text('closing', 503)
    }
    if (fault === 'refuse') {
      posts.faulted++
      return c.text('unavailable', 503)
    }
    if (init.authorization !== undefined && c.req.header('authorization') !== `Basic ${init.authorization}`) {
      posts.unauthorized++
      return c.text('unauthorized', 401)
    }
    const malformed = (why: string) => {
      posts.malformed++
      problems.push(why)
      return c.text(why, 400)
    }
    if (!(c.req.header('content-type') ?? '').startsWith('application/json'))
      return malformed(`content type ${c.req.header('content-type')}`)
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return malformed('not JSON')
    }
    const batch = (body as { events?: unknown })?.events
    if (!Array.isArray(batch) || batch.length === 0) return malformed('no "events" array')
    for (const [i, event] of batch.entries()) {
      const problem = problemOf(event, i)
      if (problem !== undefined) return malformed(problem)
    }
    posts.accepted++
    events.push(...(batch as RecordedEvent[]))
    return c.body(null, 200)
  })
  const server = await serveLoopback(app)
  return {
    url: `${server.url}/`,
    events,
    posts,
    problems,
    setFault: (next) => {
      fault = next
    },
    close: async () => {
      for (const release of hanging) release()
      await server.close()
    }
  }
}
