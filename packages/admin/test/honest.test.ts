import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import { Hono } from 'hono'
import { type AppEnv, createAdminApp, listenAdmin } from '../src/index.ts'

const TOKEN = 'secret-token'
const auth = { Authorization: `Bearer ${TOKEN}` }

function app(readiness: Record<string, () => Promise<void>> = {}) {
  // A route whose store refuses a value as PostgreSQL does (SQLSTATE 22021, wrapped by the driver).
  const refuses = new Hono<AppEnv>().get('/', () => {
    const pg = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' })
    throw new Error('Failed query: insert into …', { cause: pg })
  })
  return createAdminApp({ readiness, routes: { '/refuses': refuses } }, { token: () => TOKEN })
}

test('/readyz gives each failing check one clean line, whatever the error looked like', async () => {
  const res = await app({
    database: async () => {
      throw new Error('database unavailable while pinging:\n  connect ECONNREFUSED 127.0.0.1:5432\n\n')
    },
    libp2p: async () => {
      throw new AggregateError(
        [new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')],
        ''
      )
    },
    cache: async () => {}
  }).request('/readyz')
  assert.equal(res.status, 503)
  const { checks } = (await res.json()) as { checks: Record<string, string> }
  assert.deepEqual(checks, {
    database: 'database unavailable while pinging: connect ECONNREFUSED 127.0.0.1:5432',
    libp2p: 'connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432',
    cache: 'ok'
  })
})

test('text the database refuses is a 400 in the error shape, not a 500; so is %00 in a path or query', async () => {
  const refused = await app().request('/api/v1/refuses', { headers: auth })
  assert.equal(refused.status, 400)
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ERR_INVALID_INPUT')
  const nul = await app().request('/api/v1/refuses?x=%00', { headers: auth })
  assert.equal(nul.status, 400)
  assert.match(((await nul.json()) as { error: { message: string } }).error.message, /NUL/)
})

test('an oversized request header is a JSON error like every other, over a real socket', async (t) => {
  const server = await listenAdmin(app(), { host: '127.0.0.1', port: 0 })
  t.after(() => server.close())
  const { status, type, body } = await new Promise<{ status?: number; type?: string; body: string }>(
    (resolve, reject) => {
      const req = request(`${server.url}/api/v1/refuses`, { headers: { ...auth, 'X-Pad': 'x'.repeat(32 * 1024) } })
      req.on('response', (res) => {
        let text = ''
        res.on('data', (d) => {
          text += d
        })
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: text }))
      })
      req.on('error', reject)
      req.end()
    }
  )
  assert.equal(status, 431)
  assert.equal(type, 'application/json')
  assert.deepEqual(JSON.parse(body).error.code, 'ERR_HEADERS_TOO_LARGE')
})
