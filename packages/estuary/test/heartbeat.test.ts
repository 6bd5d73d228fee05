import assert from 'node:assert/strict'
import { test } from 'node:test'
import { capturingLogger, type EstuaryStandIn, startEstuary, waitUntil } from '@autoretrieve/testkit'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { createHeartbeat, DEFAULT_ESTUARY_TIMEOUT_MS, type HeartbeatInit, registerWithEstuary } from '../src/index.ts'

type After = { after(fn: () => Promise<unknown>): void }

/** Registers a fresh identity with the stand-in, as register-estuary does; resolves with its token. */
async function registered(estuary: EstuaryStandIn) {
  const key = await generateKeyPair('Ed25519')
  return registerWithEstuary(estuary.url, estuary.adminToken, {
    addresses: ['/ip4/127.0.0.1/tcp/6746'],
    pubKey: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64')
  })
}

async function setup(t: After, estuaryInit: { advertiseInterval: string }, init: Partial<HeartbeatInit> = {}) {
  const estuary = await startEstuary(estuaryInit)
  t.after(() => estuary.close())
  const reg = await registered(estuary)
  const log = capturingLogger()
  const heartbeat = createHeartbeat(
    { logger: log.logger },
    { endpoint: estuary.url, token: reg.token, retryIntervalMs: 5_000, ...init }
  )
  t.after(() => heartbeat.stop())
  return { estuary, reg, heartbeat, log }
}

const gaps = (times: Date[]) => times.slice(1).map((d, i) => d.getTime() - times[i].getTime())

/**
 * The delay the heartbeat scheduled after its last answer: both times are taken by the heartbeat
 * itself, one after the other, so this is the schedule, not how late a loaded machine ran it.
 */
const scheduledAfter = (at: string | null, next: string | null) => Date.parse(next ?? '') - Date.parse(at ?? '')

/**
 * Bounds on elapsed time below are the contracts' (specs/estuary-autoretrieve.md §3: first beat at
 * start, then after half of advertiseInterval; after a failure, after heartbeat-interval): a beat
 * never goes out sooner than its delay (less ESTUARY_CLOCK_SLACK_MS, the stand-in reading its own
 * clock when a request arrives), and is scheduled before the interval is over (Estuary counts the
 * node offline after that). How late a beat runs on a busy machine is not bounded here.
 */
const ESTUARY_CLOCK_SLACK_MS = 10

test('beats at start, then at half the advertised interval, with the bearer token and an empty body', async (t) => {
  const { estuary, reg, heartbeat } = await setup(t, { advertiseInterval: '400ms' })
  const started = Date.now()
  heartbeat.start()
  // At start: the beat is on its way, no timer stands before it.
  assert.deepEqual([heartbeat.status().state, heartbeat.status().nextBeatAt], ['pending', null])
  await waitUntil('the first answer', () => heartbeat.status().beats.succeeded >= 1)
  assert.equal(estuary.heartbeats.length, 1, 'one beat at start')
  const first = heartbeat.status()
  const half = scheduledAfter(first.lastSuccessAt, first.nextBeatAt)
  assert.ok(half >= 200 && half < 400, `next beat scheduled ${half} ms after the answer: half of 400ms, within it`)
  // Until the node has read the third answer too: Estuary records a beat when it arrives, and
  // stopping before its answer is read would abort it.
  await waitUntil('three heartbeats', () => heartbeat.status().beats.succeeded >= 3)
  heartbeat.stop()
  const beats = estuary.heartbeats.slice(0, 3)
  for (const gap of gaps(beats.map((b) => b.at))) {
    assert.ok(gap >= 200 - ESTUARY_CLOCK_SLACK_MS, `beats ${gap} ms apart, sooner than half of 400ms`)
  }
  for (const b of beats) {
    assert.equal(b.authorization, `Bearer ${reg.token}`)
    assert.equal(b.contentType, undefined, 'no Content-Type')
    assert.equal(b.bodyBytes, 0)
    assert.equal(b.status, 200)
  }
  const status = heartbeat.status()
  assert.equal(status.enabled, true)
  assert.equal(status.handle, reg.handle)
  assert.equal(status.advertiseInterval, '400ms')
  assert.equal(status.advertiseIntervalMs, 400)
  assert.equal(status.endpoint, `${estuary.url}/autoretrieve/heartbeat`)
  assert.ok(status.beats.succeeded >= 3)
  assert.equal(status.lastError, null)
  assert.ok(status.lastSuccessAt !== null && Date.parse(status.lastSuccessAt) >= started)
})

test('status between beats names the next beat at half the interval', async (t) => {
  const { estuary, heartbeat } = await setup(t, { advertiseInterval: '10s' })
  heartbeat.start()
  await waitUntil('the first beat', () => heartbeat.status().state === 'ok')
  const status = heartbeat.status()
  assert.ok(status.nextBeatAt !== null)
  const inMs = scheduledAfter(status.lastSuccessAt, status.nextBeatAt)
  assert.ok(inMs >= 5_000 && inMs < 10_000, `next beat ${inMs} ms after the answer, expected 5 s (half of 10s)`)
  assert.equal(estuary.heartbeats.length, 1)
})

test('a failing Estuary is retried after heartbeat-interval, and the heartbeat recovers when it comes back', async (t) => {
  const { estuary, reg, heartbeat, log } = await setup(t, { advertiseInterval: '10s' }, { retryIntervalMs: 150 })
  estuary.setFault('status500')
  heartbeat.start()
  await waitUntil('three failed beats', () => heartbeat.status().beats.failed >= 3)
  const failing = heartbeat.status()
  assert.equal(failing.state, 'failing')
  assert.match(failing.lastError?.message ?? '', /500 ERR_INTERNAL_SERVER: injected failure/)
  assert.equal(failing.lastSuccessAt, null)
  for (const gap of gaps(estuary.heartbeats.slice(0, 3).map((b) => b.at))) {
    assert.ok(gap >= 150 - ESTUARY_CLOCK_SLACK_MS, `retries ${gap} ms apart, sooner than heartbeat-interval (150 ms)`)
  }

  estuary.setFault('status401')
  await waitUntil('a refused beat', () => estuary.heartbeats.some((h) => h.status === 401))
  await waitUntil('the refusal recorded', () => /token was not found/.test(heartbeat.status().lastError?.message ?? ''))

  estuary.setFault('none')
  await waitUntil('recovery', () => heartbeat.status().state === 'ok')
  const ok = heartbeat.status()
  assert.equal(ok.beats.succeeded, 1)
  assert.ok(ok.beats.failed >= 4)
  assert.ok(ok.lastError !== null, 'the last error is kept after recovery, with its time')
  assert.ok(Date.parse(ok.lastError.at) <= Date.parse(ok.lastSuccessAt ?? ''))
  const next = scheduledAfter(ok.lastSuccessAt, ok.nextBeatAt)
  assert.ok(next >= 5_000, `after recovery the next beat is at half the interval, not the retry delay (${next} ms)`)
  assert.ok(
    log.lines.some((l) => l.level === 'warn' && l.msg === 'Estuary heartbeat failed'),
    'failures are logged'
  )
  assert.ok(log.lines.some((l) => l.msg === 'Estuary heartbeat recovered'))
  assert.ok(!JSON.stringify(log.lines).includes(reg.token), 'the token is never logged')
  assert.ok(!JSON.stringify(heartbeat.status()).includes(reg.token), 'nor shown in the status')
})

test('answers without a usable advertiseInterval, or not JSON, are failures', async (t) => {
  const { estuary, heartbeat } = await setup(t, { advertiseInterval: 'soon' }, { retryIntervalMs: 100 })
  heartbeat.start()
  await waitUntil('a failure', () => heartbeat.status().beats.failed >= 1)
  assert.match(heartbeat.status().lastError?.message ?? '', /advertiseInterval \("soon"\)/)
  estuary.setAdvertiseInterval('0s')
  const failed = heartbeat.status().beats.failed
  await waitUntil('another failure', () => heartbeat.status().beats.failed > failed)
  assert.match(heartbeat.status().lastError?.message ?? '', /advertiseInterval \("0s"\)/)
  estuary.setAdvertiseInterval('1m0s')
  estuary.setFault('garbage')
  await waitUntil('a garbage failure', () =>
    /other than a JSON object/.test(heartbeat.status().lastError?.message ?? '')
  )
  assert.equal(heartbeat.status().beats.succeeded, 0)
})

test('a silent Estuary is cut off by the request timeout, and stop() ends a beat in flight at once', async (t) => {
  const { estuary, heartbeat } = await setup(
    t,
    { advertiseInterval: '1m0s' },
    { timeoutMs: 200, retryIntervalMs: 60_000 }
  )
  // Estuary stalls a minute; the beat fails long before (the wait's bound is a sixth of the stall),
  // and names the 200 ms bound that cut it off.
  estuary.setFault('delay:60000')
  heartbeat.start()
  await waitUntil('the timeout', () => heartbeat.status().state === 'failing', { timeoutMs: 10_000 })
  assert.match(heartbeat.status().lastError?.message ?? '', /did not answer the heartbeat .* within 200 ms/)

  const second = createHeartbeat(
    { logger: capturingLogger().logger },
    { endpoint: estuary.url, token: 'x', retryIntervalMs: 60_000 }
  )
  const sent = estuary.heartbeats.length
  second.start()
  await waitUntil('the beat to reach Estuary', () => estuary.heartbeats.length > sent)
  // stop() ends the beat in flight at once: it waits neither for Estuary (stalled a minute) nor for
  // the request timeout (DEFAULT_ESTUARY_TIMEOUT_MS); the bound is half of that timeout.
  const stopping = Date.now()
  await second.stop()
  const stopMs = Date.now() - stopping
  assert.ok(stopMs < DEFAULT_ESTUARY_TIMEOUT_MS / 2, `stop() waited ${stopMs} ms for the beat in flight`)
  const status = second.status()
  assert.equal(status.state, 'stopped')
  assert.equal(status.beats.failed, 0, 'an aborted beat is not a failure')
  assert.equal(status.nextBeatAt, null)
})

test('configure() starts beating when an endpoint appears (reload after register-estuary) and stops when it goes', async (t) => {
  const estuary = await startEstuary({ advertiseInterval: '1h' })
  t.after(() => estuary.close())
  const reg = await registered(estuary)
  const heartbeat = createHeartbeat(
    { logger: capturingLogger().logger },
    { endpoint: '', token: '', retryIntervalMs: 15_000 }
  )
  t.after(() => heartbeat.stop())
  heartbeat.start()
  assert.equal(heartbeat.status().state, 'disabled')
  await heartbeat.configure({ endpoint: `${estuary.url}/`, token: reg.token, retryIntervalMs: 15_000 })
  await waitUntil('a beat', () => heartbeat.status().state === 'ok')
  assert.equal(estuary.heartbeats.length, 1)
  await heartbeat.configure({ endpoint: '', token: '', retryIntervalMs: 15_000 })
  assert.equal(heartbeat.status().enabled, false)
  assert.equal(heartbeat.status().nextBeatAt, null)
})
