import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createHeartbeat, type HeartbeatInit, registerWithEstuary } from '@autoretrieve/estuary'
import { capturingLogger, type EstuaryStandIn, startEstuary, waitUntil } from '@autoretrieve/testkit'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { createAdminApp, listenAdmin } from '../src/index.ts'

type After = { after(fn: () => Promise<unknown>): void }
const ADMIN_TOKEN = 'admin-api-token'

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

function adminApp(heartbeat: ReturnType<typeof createHeartbeat>) {
  return createAdminApp({ heartbeat }, { token: () => ADMIN_TOKEN })
}

const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` }

test('GET /api/v1/heartbeat says disabled when no endpoint is set, and POST is a 409 ERR_HEARTBEAT_DISABLED', async (t) => {
  const heartbeat = createHeartbeat(
    { logger: capturingLogger().logger },
    { endpoint: '', token: '', retryIntervalMs: 15_000 }
  )
  heartbeat.start()
  t.after(() => heartbeat.stop())
  const app = adminApp(heartbeat)
  const got = await app.request('/api/v1/heartbeat', { headers: auth })
  assert.equal(got.status, 200)
  const body = (await got.json()) as Record<string, unknown>
  assert.equal(body.enabled, false)
  assert.equal(body.state, 'disabled')
  assert.equal(body.reason, 'advertise-endpoint-url is not set')
  const post = await app.request('/api/v1/heartbeat', { method: 'POST', headers: auth })
  assert.equal(post.status, 409)
  const error = ((await post.json()) as { error: { code: string; message: string } }).error
  assert.equal(error.code, 'ERR_HEARTBEAT_DISABLED')
  assert.match(error.message, /advertise-endpoint-url/)
})

test('POST /api/v1/heartbeat beats now and answers the new status; an Estuary refusal is a 502 ERR_HEARTBEAT_FAILED', async (t) => {
  const { estuary, reg, heartbeat } = await setup(t, { advertiseInterval: '1h' })
  heartbeat.start()
  await waitUntil('the first beat', () => heartbeat.status().state === 'ok')
  const app = adminApp(heartbeat)
  const res = await app.request('/api/v1/heartbeat', { method: 'POST', headers: auth })
  assert.equal(res.status, 200)
  const status = (await res.json()) as { state: string; beats: { succeeded: number } }
  assert.equal(status.state, 'ok')
  assert.equal(status.beats.succeeded, 2)
  assert.equal(estuary.heartbeats.length, 2)

  estuary.setFault('status401')
  const refused = await app.request('/api/v1/heartbeat', { method: 'POST', headers: auth })
  assert.equal(refused.status, 502)
  const error = ((await refused.json()) as { error: { code: string; message: string } }).error
  assert.equal(error.code, 'ERR_HEARTBEAT_FAILED')
  assert.match(error.message, /401 ERR_NOT_AUTHORIZED: token was not found/)
  assert.ok(!error.message.includes(reg.token))
  const after = (await (await app.request('/api/v1/heartbeat', { headers: auth })).json()) as { state: string }
  assert.equal(after.state, 'failing')
})

test('two API beats at once share one request to Estuary', async (t) => {
  const { estuary, heartbeat } = await setup(t, { advertiseInterval: '1h' })
  heartbeat.start()
  await waitUntil('the first beat', () => heartbeat.status().state === 'ok')
  estuary.setFault('delay:100')
  const app = adminApp(heartbeat)
  const [a, b] = await Promise.all([
    app.request('/api/v1/heartbeat', { method: 'POST', headers: auth }),
    app.request('/api/v1/heartbeat', { method: 'POST', headers: auth })
  ])
  assert.deepEqual([a.status, b.status], [200, 200])
  assert.equal(estuary.heartbeats.length, 2, 'the start beat and one shared beat')
})

test('the heartbeat API over a real socket: behind the bearer token, GET and POST', async (t) => {
  const { estuary, heartbeat } = await setup(t, { advertiseInterval: '1h' })
  heartbeat.start()
  await waitUntil('the first beat', () => heartbeat.status().state === 'ok')
  const server = await listenAdmin(adminApp(heartbeat), { host: '127.0.0.1', port: 0 })
  t.after(() => server.close())
  assert.equal((await fetch(`${server.url}/api/v1/heartbeat`)).status, 401)
  assert.equal((await fetch(`${server.url}/api/v1/heartbeat`, { method: 'POST' })).status, 401)
  const got = await fetch(`${server.url}/api/v1/heartbeat`, { headers: auth })
  assert.equal(got.status, 200)
  assert.equal(((await got.json()) as { state: string }).state, 'ok')
  const posted = await fetch(`${server.url}/api/v1/heartbeat`, { method: 'POST', headers: auth })
  assert.equal(posted.status, 200)
  assert.equal(((await posted.json()) as { beats: { succeeded: number } }).beats.succeeded, 2)
  assert.equal(estuary.heartbeats.length, 2)
})
