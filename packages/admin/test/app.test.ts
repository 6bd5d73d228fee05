import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Hono } from 'hono'
import { type AppEnv, createAdminApp, listenAdmin } from '../src/index.ts'

const TOKEN = 'secret-token'

function app(readyDb = true) {
  const echo = new Hono<AppEnv>().post('/', async (c) => c.json(await c.req.json()))
  return createAdminApp(
    {
      readiness: {
        database: async () => {
          if (!readyDb) throw new Error('database unreachable')
        }
      },
      metrics: { contentType: 'text/plain; version=0.0.4', render: async () => '# HELP x y\n' },
      routes: { '/echo': echo }
    },
    { token: () => TOKEN, bodyLimitBytes: 64 }
  )
}

test('health, readiness and metrics answer without a token', async () => {
  assert.equal((await app().request('/healthz')).status, 200)
  const ready = await app().request('/readyz')
  assert.equal(ready.status, 200)
  const notReady = await app(false).request('/readyz')
  assert.equal(notReady.status, 503)
  assert.deepEqual((await notReady.json()).checks, { database: 'database unreachable' })
  assert.equal((await app().request('/metrics')).status, 200)
})

test('the API refuses a missing or wrong token with the error shape and WWW-Authenticate', async () => {
  const cases: Array<[Record<string, string>, number]> = [
    [{}, 401],
    [{ Authorization: 'Bearer nope' }, 401],
    [{ Authorization: `Bearer ${TOKEN}x` }, 401],
    [{ Authorization: `Basic ${TOKEN}` }, 400]
  ]
  for (const [headers, status] of cases) {
    const res = await app().request('/api/v1/echo', { method: 'POST', headers, body: '{}' })
    assert.equal(res.status, status)
    assert.equal((await res.json()).error.code, 'ERR_UNAUTHORIZED')
    assert.match(res.headers.get('WWW-Authenticate') ?? '', /Bearer/)
  }
  const ok = await app().request('/api/v1/echo', {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: '{"a":1}'
  })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { a: 1 })
})

test('an oversized body is 413 and an unknown route is 404, both in the error shape', async () => {
  const big = await app().request('/api/v1/echo', {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ pad: 'x'.repeat(200) })
  })
  assert.equal(big.status, 413)
  assert.equal((await big.json()).error.code, 'ERR_BODY_TOO_LARGE')
  const missing = await app().request('/api/v1/nothing', { headers: { Authorization: `Bearer ${TOKEN}` } })
  assert.equal(missing.status, 404)
  assert.equal((await missing.json()).error.code, 'ERR_NOT_FOUND')
})

test('listens on a real socket on loopback and a taken port is a one-line AdminListenError', async (t) => {
  const server = await listenAdmin(app(), { host: '127.0.0.1', port: 0 })
  t.after(() => server.close())
  const res = await fetch(`${server.url}/healthz`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('X-Content-Type-Options'), 'nosniff')
  await assert.rejects(listenAdmin(app(), { host: '127.0.0.1', port: server.port }), { name: 'AdminListenError' })
})

test('the console page loads only its own files: a strict CSP, its script and style, uPlot from node_modules, an SVG favicon', async () => {
  const page = await app().request('/')
  assert.equal(page.status, 200)
  const csp = page.headers.get('Content-Security-Policy') ?? ''
  assert.match(csp, /script-src 'self';/)
  assert.match(csp, /style-src 'self';/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/)
  const html = await page.text()
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
  assert.deepEqual(
    refs.filter((r) => !r.startsWith('/')),
    [],
    'nothing from another origin'
  )
  for (const ref of refs) {
    const res = await app().request(ref)
    assert.equal(res.status, 200, `${ref} is served`)
  }
  const types = async (path: string) => (await app().request(path)).headers.get('Content-Type')
  assert.match((await types('/console/uplot.js')) ?? '', /^text\/javascript/)
  assert.match((await types('/console/console.css')) ?? '', /^text\/css/)
  assert.match(await (await app().request('/console/uplot.js')).text(), /uPlot/)
  assert.equal(await types('/favicon.ico'), 'image/svg+xml')
  assert.match(await (await app().request('/favicon.svg')).text(), /^<svg /)
  assert.equal((await app().request('/console/../package.json')).status, 404)
  assert.equal((await app().request('/console/nothing.js')).status, 404)
})
