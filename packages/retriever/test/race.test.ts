import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Candidate, TransportProtocol } from '@autoretrieve/routing'
import type { AttemptResult } from '../src/attempt.ts'
import { MAX_REQUEUES } from '../src/constants.ts'
import { AttemptError } from '../src/errors.ts'
import { type RaceAttempt, race } from '../src/race.ts'

const candidate = (peerId: string, protocols: TransportProtocol[]): Candidate => ({
  peerId,
  addrs: [],
  protocols,
  httpUrls: [],
  rootCid: 'bafy',
  source: 'static'
})

/** An attempt that waits `ms`, then calls onFirstBlock and succeeds; cancelled if its signal aborts first. */
async function delivers(a: RaceAttempt, ms: number): Promise<AttemptResult> {
  try {
    await sleep(ms, undefined, { signal: a.signal })
  } catch {
    return { ok: false, cancelled: true }
  }
  a.onFirstBlock()
  return { ok: true, blocks: 1, bytes: 10 }
}

const fails = (errorClass: 'http_status' | 'timeout'): AttemptResult => ({
  ok: false,
  cancelled: false,
  error: new AttemptError(errorClass, errorClass)
})

test('protocols start a stagger apart; the first to deliver wins and the others are cancelled', async () => {
  const started: Array<[TransportProtocol, number]> = []
  const t0 = performance.now()
  const result = await race({
    candidates: new Map([
      ['bitswap', [candidate('b', ['bitswap'])]],
      ['http', [candidate('h', ['http'])]]
    ]),
    staggerMs: 40,
    signal: new AbortController().signal,
    attempt: (a) => {
      started.push([a.protocol, performance.now() - t0])
      return delivers(a, a.protocol === 'http' ? 200 : 10)
    }
  })
  assert.equal(result.ok && result.protocol, 'bitswap')
  assert.deepEqual(
    started.map(([p]) => p),
    ['http', 'bitswap'],
    'HTTP first, whatever order the map is in'
  )
  assert.ok(started[1][1] >= 35, `bitswap started after ${started[1][1]} ms`)
})

test('within a protocol candidates are tried in turn, and every failure is kept', async () => {
  const tried: string[] = []
  const result = await race({
    candidates: new Map([['http', [candidate('a', ['http']), candidate('b', ['http']), candidate('c', ['http'])]]]),
    staggerMs: 0,
    signal: new AbortController().signal,
    attempt: async (a) => {
      tried.push(a.candidate.peerId)
      return fails(a.candidate.peerId === 'b' ? 'timeout' : 'http_status')
    }
  })
  assert.deepEqual(tried, ['a', 'b', 'c'])
  assert.equal(result.ok, false)
  assert.deepEqual(!result.ok && result.errors.map((e) => e.errorClass), ['http_status', 'timeout', 'http_status'])
})

test(`a candidate cancelled by another protocol's win goes back to its queue, at most ${MAX_REQUEUES} times`, async () => {
  const tried: string[] = []
  const result = await race({
    candidates: new Map([
      ['http', [candidate('slow-http', ['http'])]],
      ['bitswap', [candidate('b1', ['bitswap']), candidate('b2', ['bitswap']), candidate('b3', ['bitswap'])]]
    ]),
    staggerMs: 0,
    signal: new AbortController().signal,
    attempt: async (a) => {
      tried.push(a.candidate.peerId)
      if (a.protocol === 'http') return delivers(a, 1_000)
      // Each Bitswap candidate delivers its first block a little after it starts (cancelling the
      // HTTP attempt running meanwhile), then fails.
      await sleep(20)
      a.onFirstBlock()
      return fails('http_status')
    }
  })
  assert.equal(result.ok, false)
  assert.equal(tried.filter((p) => p === 'slow-http').length, 1 + MAX_REQUEUES)
  assert.deepEqual(
    tried.filter((p) => p !== 'slow-http'),
    ['b1', 'b2', 'b3']
  )
})

test('no new round starts once the retrieval is aborted', async () => {
  const controller = new AbortController()
  const tried: string[] = []
  const result = await race({
    candidates: new Map([['http', [candidate('a', ['http']), candidate('b', ['http'])]]]),
    staggerMs: 0,
    signal: controller.signal,
    attempt: async (a) => {
      tried.push(a.candidate.peerId)
      controller.abort()
      return { ok: false, cancelled: true }
    }
  })
  assert.equal(result.ok, false)
  assert.deepEqual(tried, ['a'])
})

test('candidates of one protocol are raced a stagger apart: a hanging first costs the stagger, not its timeout', async () => {
  const started: Array<[string, number]> = []
  const t0 = performance.now()
  const result = await race({
    candidates: new Map([['http', [candidate('hangs', ['http']), candidate('good', ['http'])]]]),
    staggerMs: 0,
    candidateStaggerMs: 50,
    signal: new AbortController().signal,
    attempt: (a) => {
      started.push([a.candidate.peerId, performance.now() - t0])
      return delivers(a, a.candidate.peerId === 'hangs' ? 60_000 : 10)
    }
  })
  assert.equal(result.ok && result.candidate.peerId, 'good')
  assert.deepEqual(
    started.map(([p]) => p),
    ['hangs', 'good']
  )
  assert.ok(started[1][1] >= 45, `the second started ${started[1][1]} ms in, not before the stagger`)
})

test('a failure starts the next candidate at once, and no more than maxPerProtocol run together', async () => {
  let running = 0
  let most = 0
  const tried: string[] = []
  const result = await race({
    candidates: new Map([['http', ['a', 'b', 'c', 'd', 'e'].map((id) => candidate(id, ['http']))]]),
    staggerMs: 0,
    candidateStaggerMs: 0,
    maxPerProtocol: 2,
    signal: new AbortController().signal,
    attempt: async (a) => {
      tried.push(a.candidate.peerId)
      most = Math.max(most, ++running)
      await sleep(5)
      running--
      return fails('timeout')
    }
  })
  assert.equal(result.ok, false)
  assert.deepEqual(tried, ['a', 'b', 'c', 'd', 'e'])
  assert.equal(most, 2)
})
