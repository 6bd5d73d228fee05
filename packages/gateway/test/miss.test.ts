import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createUnixfsFixture, startProvider, waitUntil } from '@autoretrieve/testkit'
import { indexed, readCar, startGateway, verifiedFetchVia } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }
const CAR = 'application/vnd.ipld.car'

async function provider(t: After, car: Uint8Array, fault?: Parameters<typeof startProvider>[0]['fault']) {
  const p = await startProvider({ cars: [car], protocols: ['http'], fault })
  t.after(() => p.close())
  return p
}

test('verified-fetch reads a file through the gateway, from the cache and on a miss', {
  timeout: 30_000
}, async (t) => {
  const cached = await createUnixfsFixture({ size: 700_000, chunkSize: 256 * 1024, seed: 3 })
  const missed = await createUnixfsFixture({ size: 900_000, chunkSize: 256 * 1024, seed: 4 })
  const p = await provider(t, missed.car)
  const gw = await startGateway(t, { providers: indexed(p) })
  await gw.put(cached.blocks)
  const vf = await verifiedFetchVia(t, gw.url)
  for (const fx of [cached, missed]) {
    const res = await vf(`ipfs://${fx.root}`, { signal: AbortSignal.timeout(20_000) })
    assert.equal(res.status, 200)
    const body = new Uint8Array(await res.arrayBuffer())
    assert.ok(Buffer.from(body).equals(Buffer.from(fx.bytes)), `the file under ${fx.root} arrives whole`)
  }
  assert.ok(p.stats.httpRequests >= 1, 'the miss went to the provider')
  assert.ok(
    gw.requests.every((r) => r.format === 'raw' && r.status === 200),
    'verified-fetch asked for raw blocks, all answered'
  )
})

test('a CAR on a miss streams as verified blocks land: the first block leaves before the retrieval ends', {
  timeout: 30_000
}, async (t) => {
  const fx = await createUnixfsFixture({ size: 2 * 1024 * 1024, chunkSize: 256 * 1024, seed: 5 })
  // ~1 MiB/s: the provider takes about 2 s to send the whole CAR.
  const p = await provider(t, fx.car, 'slow:1048576')
  const gw = await startGateway(t, { providers: indexed(p) })
  const res = await fetch(`${gw.url}/ipfs/${fx.root}`, { headers: { Accept: CAR } })
  assert.equal(res.status, 200)
  const reader = res.body!.getReader()
  const chunks: Uint8Array[] = []
  const first = await reader.read()
  assert.ok(!first.done)
  chunks.push(first.value)
  assert.equal(gw.retriever!.stats().active, 1, 'the retrieval is still running when the first bytes arrive')
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
  }
  const car = await readCar(Buffer.concat(chunks))
  assert.deepEqual(
    car.blocks.map((b) => b.cid.toString()),
    fx.blocks.map((b) => b.cid.toString()),
    'the DAG in DFS order, as the cache verified it'
  )
  for (const [i, b] of car.blocks.entries()) assert.ok(Buffer.from(b.bytes).equals(Buffer.from(fx.blocks[i].bytes)))
})

test('a client that disconnects mid-stream releases its share: the retrieval stops, nothing is left in flight', {
  timeout: 30_000
}, async (t) => {
  const fx = await createUnixfsFixture({ size: 4 * 1024 * 1024, chunkSize: 256 * 1024, seed: 6 })
  const p = await provider(t, fx.car, 'slow:524288')
  const gw = await startGateway(t, { providers: indexed(p) })
  const controller = new AbortController()
  const res = await fetch(`${gw.url}/ipfs/${fx.root}?format=car`, { signal: controller.signal })
  const reader = res.body!.getReader()
  await reader.read()
  assert.equal(gw.retriever!.stats().inflight, 1)
  controller.abort()
  await waitUntil(
    'the retrieval released and the request finished',
    () => gw.retriever!.stats().inflight === 0 && gw.gateway.stats().active === 0
  )
  const attempt = gw.records.find((r) => r.type === 'attempt' && r.protocol === 'http-gateway')
  assert.ok(attempt?.type === 'attempt')
  assert.equal(attempt.outcome, 'cancelled')
  assert.equal(gw.retriever!.stats().failed, 1, 'the provider retrieval was aborted, not left running')
  assert.equal(gw.retriever!.stats().succeeded, 0)
  assert.ok(gw.cache.stats().awaiting === 0, 'no waiter left on the cache')
})

test('a deny issued mid-stream cuts the stream; a miss refused by admission is 429 rate_limited', {
  timeout: 30_000
}, async (t) => {
  const fx = await createUnixfsFixture({ size: 3 * 1024 * 1024, chunkSize: 256 * 1024, seed: 7 })
  const p = await provider(t, fx.car, 'slow:524288')
  // One new retrieval per client, then one per 1,000 s: the second miss from 127.0.0.1 is over it.
  const gw = await startGateway(t, {
    providers: indexed(p),
    admission: { requesterRatePerSecond: 0.001, requesterBurst: 1 }
  })
  const res = await fetch(`${gw.url}/ipfs/${fx.root}?format=car`)
  assert.equal(res.status, 200)
  const reader = res.body!.getReader()
  await reader.read()
  gw.deny(fx.root, 'takedown')
  await assert.rejects(
    (async () => {
      for (;;) if ((await reader.read()).done) break
    })(),
    'the body ends in an error, not a short CAR that looks complete'
  )
  await waitUntil('the request ended', () => gw.gateway.stats().active === 0)

  const other = await createUnixfsFixture({ size: 1000, seed: 8 })
  const limited = await fetch(`${gw.url}/ipfs/${other.root}?format=raw`)
  assert.equal(limited.status, 429)
  assert.equal(limited.headers.get('retry-after'), '1')
  assert.match(await limited.text(), /rate_limited/)
})

test('a miss nobody can serve is 404 (no provider) or 502 (providers failed)', { timeout: 30_000 }, async (t) => {
  const fx = await createUnixfsFixture({ size: 1000, seed: 9 })
  const none = await startGateway(t, { providers: [] })
  const notFound = await fetch(`${none.url}/ipfs/${fx.root}?format=car`)
  assert.equal(notFound.status, 404)
  assert.match(await notFound.text(), /no_candidates/)
  const onlyCached = await fetch(`${none.url}/ipfs/${fx.root}?format=raw`, {
    headers: { 'Cache-Control': 'only-if-cached' }
  })
  assert.equal(onlyCached.status, 412)
  await onlyCached.arrayBuffer()

  const p = await provider(t, fx.car, 'status500')
  const failing = await startGateway(t, { providers: indexed(p) })
  const bad = await fetch(`${failing.url}/ipfs/${fx.root}?format=raw`)
  assert.equal(bad.status, 502)
  assert.match(await bad.text(), /retrieval_failed/)
})
