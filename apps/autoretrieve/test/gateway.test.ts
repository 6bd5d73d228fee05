import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createUnixfsFixture, parseExposition, sampleValue } from '@autoretrieve/testkit'
import { CarBlockIterator } from '@ipld/car'
import {
  adminApi,
  cliEnv,
  denyViaApi,
  importCarViaNode,
  refusalReasons,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

test('the node serves a trustless CAR on its gateway listener; the request shows in stats, metrics and explain', async (t) => {
  const node = await startDaemon(t, await tempDataDir(t), cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' }))
  assert.match(node.gatewayUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, 'the test helpers bind it on loopback, any port')
  const fx = await createUnixfsFixture({ size: 600_000, chunkSize: 256 * 1024, seed: 11 })
  await importCarViaNode(node, fx.car)

  const res = await fetch(`${node.gatewayUrl}/ipfs/${fx.root}`, { headers: { Accept: 'application/vnd.ipld.car' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'application/vnd.ipld.car;version=1;order=dfs;dups=y')
  const iter = await CarBlockIterator.fromBytes(new Uint8Array(await res.arrayBuffer()))
  const got: string[] = []
  for await (const b of iter) got.push(b.cid.toString())
  assert.deepEqual(
    got,
    fx.blocks.map((b) => b.cid.toString())
  )
  const admin = await fetch(`${node.gatewayUrl}/api/v1/stats`)
  assert.equal(admin.status, 404, 'the public listener has no admin routes')
  await admin.arrayBuffer()

  const stats = await until(
    'the gateway request in /api/v1/stats',
    async () =>
      (await adminApi<{ gateway?: { requests: number; bytesSent: number } }>(node, 'GET', '/api/v1/stats')).body,
    (s) => (s.gateway?.requests ?? 0) >= 2
  )
  assert.ok((stats.gateway?.bytesSent ?? 0) > fx.bytes.byteLength)
  const metrics = parseExposition(await (await fetch(`${node.adminUrl}/metrics`)).text())
  assert.equal(sampleValue(metrics, 'autoretrieve_gateway_requests_total', { format: 'car', status: '200' }), 1)
  assert.equal(sampleValue(metrics, 'autoretrieve_gateway_requests_total', { format: 'none', status: '404' }), 1)
  assert.ok((sampleValue(metrics, 'autoretrieve_gateway_sent_bytes_total', { format: 'car' }) ?? 0) > 600_000)
  assert.equal(sampleValue(metrics, 'autoretrieve_gateway_ttfb_seconds_count', { format: 'car' }), 1)

  type Explained = {
    retrievals: Array<{ requestedBy: string[]; attempts: Array<{ protocol: string; outcome: string }> }>
  }
  const why = await until(
    'the gateway request in explain',
    async () => (await adminApi<Explained>(node, 'GET', `/api/v1/cids/${fx.root}/explain`)).body,
    (e) => e.retrievals.some((r) => r.attempts.some((a) => a.protocol === 'http-gateway'))
  )
  const served = why.retrievals.find((r) => r.attempts.some((a) => a.protocol === 'http-gateway'))!
  assert.deepEqual(served.requestedBy, ['http-gateway:127.0.0.1'])
  assert.equal(served.attempts[0].outcome, 'success')

  await denyViaApi(node, fx.root)
  const gone = await fetch(`${node.gatewayUrl}/ipfs/${fx.root}?format=car`)
  assert.equal(gone.status, 410)
  assert.match(await gone.text(), /blacklisted_cid/)
  assert.ok((await refusalReasons(node, fx.root, 'http-gateway:127.0.0.1')).includes('blacklisted_cid'))
})

test('an empty gateway-listen turns the gateway off', async (t) => {
  const dataDir = await tempDataDir(t)
  const node = await startDaemon(
    t,
    dataDir,
    cliEnv({ AUTORETRIEVE_GATEWAY_LISTEN: '', AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' })
  )
  assert.equal(node.gatewayUrl, undefined)
  const info = JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8'))
  assert.equal(info.gatewayUrl, undefined)
})
