import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { API_ERRORS, createAdminApp } from '@autoretrieve/admin'
import { DEFAULTS } from '@autoretrieve/config'
import { isCidDenied, minerConfigFor } from '@autoretrieve/policy'
import { createStore } from '@autoretrieve/store'
import { CID } from 'multiformats/cid'
import { createPolicyService } from '../src/policy-service.ts'

const TOKEN = 'test-token'
const V0 = 'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk'
const PEER = '12D3KooWDFhtmVwexwq3Ttb2zpeRTkboaQwZcTTDvewj59ThkrYS'

async function setup(t: { after(fn: () => Promise<unknown>): void }) {
  const store = await createStore({})
  t.after(() => store.close())
  const config = {
    ...structuredClone(DEFAULTS),
    dataDir: '/nonexistent',
    listenAddrs: [],
    minerBlacklist: ['f01'],
    instanceName: 'edge-t'
  }
  const policy = await createPolicyService({ store }, config)
  await policy.start()
  const app = createAdminApp(
    {
      policy: {
        current: () => policy.current(),
        apply: (c, m) => policy.apply(c, m),
        reload: () => policy.reload(config),
        instance: config.instanceName,
        drift: () => policy.drift()
      },
      retrievals: {
        history: store.retrievals,
        now: {
          isDenied: (cid) => isCidDenied(policy.current(), CID.parse(cid)),
          isCached: async () => false,
          policyVersion: () => policy.current().version
        }
      }
    },
    { token: () => TOKEN, bodyLimitBytes: 4096 }
  )
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    })
    return { status: res.status, body: (await res.json()) as Record<string, any> }
  }
  return { store, policy, call }
}

test('deny and allow lists: add, list with origin, remove; each change is a new version', async (t) => {
  const { call, policy } = await setup(t)
  const v0 = policy.current().version
  const added = await call('POST', '/api/v1/blacklist/cids', { cid: V0, reason: 'dmca' })
  assert.equal(added.status, 201)
  assert.equal(added.body.version, v0 + 1)
  assert.equal(isCidDenied(policy.current(), CID.parse(V0).toV1()), true, 'CIDv1 of the same content is denied too')
  const listed = await call('GET', '/api/v1/blacklist/cids')
  const [entry] = listed.body.entries
  assert.deepEqual(
    { ...entry, added: { ...entry.added, at: undefined } },
    {
      cid: V0,
      origin: 'api',
      reason: 'dmca',
      added: { version: v0 + 1, instance: 'edge-t', at: undefined }
    }
  )
  assert.ok(Date.parse(entry.added.at) > 0, 'when it was added')
  const removed = await call('DELETE', `/api/v1/blacklist/cids/${CID.parse(V0).toV1()}`)
  assert.equal(removed.body.version, v0 + 2)
  assert.equal(isCidDenied(policy.current(), CID.parse(V0)), false)

  const miners = await call('POST', '/api/v1/whitelist/miners', { miners: [PEER, 'f01234'] })
  assert.equal(miners.status, 201)
  const view = await call('GET', '/api/v1/policy')
  assert.deepEqual(
    view.body.minerWhitelist.map((e: { provider: string }) => e.provider).sort(),
    ['f01234', PEER].sort()
  )
  const [f01] = view.body.minerBlacklist
  assert.deepEqual(
    [f01.provider, f01.origin, f01.added.instance, f01.added.file, f01.added.version],
    ['f01', 'config', 'edge-t', '/nonexistent/config.yaml', v0]
  )
  assert.deepEqual([view.body.instance, view.body.configDrift, view.body.configLayer.version], ['edge-t', null, v0])
  const unlisted = await call('DELETE', '/api/v1/blacklist/miners/f01')
  assert.equal(unlisted.status, 200)
  assert.deepEqual(
    (await call('GET', '/api/v1/policy')).body.minerBlacklist,
    [],
    'an API removal hides a config.yaml entry'
  )
})

test('miner configs: put, get, default, delete', async (t) => {
  const { call } = await setup(t)
  assert.equal(
    (
      await call('PUT', '/api/v1/miner-configs/f01234', {
        'max-concurrent-retrievals': 3,
        'retrieval-timeout': '2m30s'
      })
    ).status,
    200
  )
  const one = await call('GET', '/api/v1/miner-configs/f01234')
  assert.deepEqual(
    [one.body['max-concurrent-retrievals'], one.body['retrieval-timeout'], one.body.origin],
    [3, '150s', 'api']
  )
  assert.equal((await call('PUT', '/api/v1/miner-configs/default', { 'max-bytes-per-second': 1000 })).status, 200)
  assert.equal((await call('GET', '/api/v1/miner-configs/default')).body['max-bytes-per-second'], 1000)
  assert.equal((await call('DELETE', '/api/v1/miner-configs/f01234')).status, 200)
  assert.equal((await call('GET', '/api/v1/miner-configs/f01234')).status, 404)
})

test('miner configs carry the price caps: FIL or attoFIL in, attoFIL strings out, none lifts a cap', async (t) => {
  const { call, policy } = await setup(t)
  const def = await call('GET', '/api/v1/miner-configs/default')
  assert.equal(def.body['max-retrieval-cost'], '10000000000000000', 'config.yaml’s default: 0.01 FIL')
  assert.equal(def.body['max-price-per-byte'], null, 'no cap')
  const put = await call('PUT', '/api/v1/miner-configs/f0777', {
    'max-price-per-byte': '2',
    'max-unseal-price': '0.001 FIL',
    'max-retrieval-cost': 'none'
  })
  assert.equal(put.status, 200)
  const one = await call('GET', '/api/v1/miner-configs/f0777')
  assert.deepEqual(
    [one.body['max-price-per-byte'], one.body['max-unseal-price'], one.body['max-retrieval-cost']],
    ['2', '1000000000000000', null]
  )
  const limits = minerConfigFor(policy.current(), ['f0777'])
  assert.equal(limits.maxPricePerByte, 2n, 'the retriever sees the cap as attoFIL')
  assert.equal(limits.maxRetrievalCost, undefined)
  const bad = await call('PUT', '/api/v1/miner-configs/f0777', { 'max-unseal-price': 'lots' })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.error.code, 'ERR_INVALID_INPUT')
  assert.match(bad.body.error.message, /max-unseal-price/)
})

test('bad input to every endpoint is the right 4xx and changes nothing', async (t) => {
  const { call, policy } = await setup(t)
  const before = policy.current().version
  const cases: Array<[string, string, unknown, number, string, Record<string, string>?]> = [
    ['POST', '/api/v1/blacklist/cids', { cid: 'not-a-cid' }, 400, 'ERR_INVALID_INPUT'],
    ['POST', '/api/v1/blacklist/cids', { cids: [V0, 'nope'] }, 400, 'ERR_INVALID_INPUT'],
    ['POST', '/api/v1/blacklist/cids', { cid: V0, extra: 1 }, 400, 'ERR_INVALID_INPUT'],
    ['POST', '/api/v1/blacklist/cids', '{"cid": ', 400, 'ERR_INVALID_JSON'],
    [
      'POST',
      '/api/v1/blacklist/cids',
      { cid: V0 },
      415,
      'ERR_UNSUPPORTED_MEDIA_TYPE',
      { 'Content-Type': 'text/plain' }
    ],
    ['POST', '/api/v1/blacklist/miners', { miner: 'bob' }, 400, 'ERR_INVALID_INPUT'],
    ['POST', '/api/v1/whitelist/miners', { miner: '12D3KooWnope' }, 400, 'ERR_INVALID_INPUT'],
    ['DELETE', '/api/v1/blacklist/cids/nope', undefined, 400, 'ERR_INVALID_INPUT'],
    ['DELETE', '/api/v1/whitelist/miners/x1', undefined, 400, 'ERR_INVALID_INPUT'],
    ['PUT', '/api/v1/miner-configs/f01234', { 'retrieval-timeout': 'soon' }, 400, 'ERR_INVALID_INPUT'],
    ['PUT', '/api/v1/miner-configs/f01234', { 'max-concurrent-retrievals': -1 }, 400, 'ERR_INVALID_INPUT'],
    ['PUT', '/api/v1/miner-configs/bob', { 'max-concurrent-retrievals': 1 }, 400, 'ERR_INVALID_INPUT'],
    ['DELETE', '/api/v1/miner-configs/default', undefined, 400, 'ERR_INVALID_INPUT'],
    ['GET', '/api/v1/retrievals?limit=0', undefined, 400, 'ERR_INVALID_INPUT'],
    ['GET', '/api/v1/retrievals?cid=nope', undefined, 400, 'ERR_INVALID_INPUT'],
    ['GET', '/api/v1/retrievals?cursor=garbage', undefined, 400, 'ERR_INVALID_INPUT'],
    ['GET', '/api/v1/cids/nope/explain', undefined, 400, 'ERR_INVALID_INPUT'],
    ['POST', '/api/v1/blacklist/cids', { cids: Array(200).fill(V0) }, 413, 'ERR_BODY_TOO_LARGE'],
    ['POST', '/api/v1/blacklist/cids', { cid: V0 }, 401, 'ERR_UNAUTHORIZED', { Authorization: 'Bearer wrong' }],
    ['POST', '/api/v1/blacklist/cids', { cid: V0 }, 401, 'ERR_UNAUTHORIZED', { Authorization: '' }]
  ]
  for (const [method, path, body, status, code, headers] of cases) {
    const res = await call(method, path, body, headers)
    assert.equal(
      res.status,
      status,
      `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)}: ${JSON.stringify(res.body)}`
    )
    assert.equal(res.body.error.code, code, `${method} ${path}`)
    assert.equal(typeof res.body.error.message, 'string')
  }
  assert.equal(policy.current().version, before, 'no bad request changed the policy')
})

test('retrieval history: filters, cursor pagination, one record, explain', async (t) => {
  const { call, store } = await setup(t)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const id = crypto.randomUUID()
    ids.push(id)
    await store.retrievals.write([
      {
        type: 'retrieval-started',
        id,
        rootCid: V0,
        requestedCid: V0,
        requestedBy: [PEER],
        policyVersion: 1,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i))
      },
      {
        type: 'retrieval-finished',
        id,
        status: i === 4 ? 'failed' : 'success',
        reason: i === 4 ? 'timeout' : null,
        bytes: 10,
        blocks: 1,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i))
      }
    ])
  }
  const first = await call('GET', '/api/v1/retrievals?limit=2')
  assert.deepEqual(
    first.body.items.map((r: { id: string }) => r.id),
    [ids[4], ids[3]]
  )
  const second = await call('GET', `/api/v1/retrievals?limit=2&cursor=${first.body.nextCursor}`)
  assert.deepEqual(
    second.body.items.map((r: { id: string }) => r.id),
    [ids[2], ids[1]]
  )
  assert.equal((await call('GET', '/api/v1/retrievals?status=failed')).body.items.length, 1)
  assert.equal((await call('GET', `/api/v1/retrievals/${ids[0]}`)).body.id, ids[0])
  assert.equal((await call('GET', `/api/v1/retrievals/${crypto.randomUUID()}`)).status, 404)
  const why = await call('GET', `/api/v1/cids/${CID.parse(V0).toV1()}/explain`)
  assert.equal(why.status, 200)
  assert.equal(why.body.retrievals.length, 5)
  assert.equal(why.body.deniedNow, false)
})

test('every API error code is unique and documented in docs/INTERFACE.md', async () => {
  const doc = await readFile(new URL('../../../docs/INTERFACE.md', import.meta.url), 'utf8')
  const codes = Object.keys(API_ERRORS)
  assert.equal(new Set(codes).size, codes.length)
  for (const code of codes) assert.ok(doc.includes(code), `${code} is not documented in docs/INTERFACE.md`)
})
