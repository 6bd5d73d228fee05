import assert from 'node:assert/strict'
import { type IncomingMessage, request } from 'node:http'
import { test } from 'node:test'
import { multihashKey } from '@autoretrieve/interface'
import { createUnixfsFixture, waitUntil } from '@autoretrieve/testkit'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { importDag, repeatedChunks, text } from './fixtures.ts'
import { readCar, startGateway } from './helpers.ts'

const CAR = 'application/vnd.ipld.car'
const get = (url: string, headers: Record<string, string> = {}, method = 'GET') => fetch(url, { headers, method })
const sameBytes = (a: Uint8Array, b: Uint8Array) => assert.ok(Buffer.from(a).equals(Buffer.from(b)), 'bytes differ')
const ids = (blocks: Array<{ cid: CID }>) => blocks.map((b) => b.cid.toString())

test('a raw block from the cache, by Accept and by ?format=raw, with the spec headers', async (t) => {
  const gw = await startGateway(t, { retrieval: false })
  const fx = await createUnixfsFixture({ size: 600_000, chunkSize: 256 * 1024 })
  await gw.put(fx.blocks)
  const leaf = fx.blocks[1]
  const res = await get(`${gw.url}/ipfs/${leaf.cid}`, { Accept: 'application/vnd.ipld.raw' })
  assert.equal(res.status, 200)
  sameBytes(new Uint8Array(await res.arrayBuffer()), leaf.bytes)
  assert.equal(res.headers.get('content-type'), 'application/vnd.ipld.raw')
  assert.equal(res.headers.get('content-length'), String(leaf.bytes.byteLength))
  assert.equal(res.headers.get('x-ipfs-roots'), leaf.cid.toString())
  assert.equal(res.headers.get('cache-control'), 'public, max-age=29030400, immutable')
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="${leaf.cid}.bin"`)
  assert.equal(res.headers.get('access-control-allow-origin'), '*')
  assert.match(res.headers.get('vary') ?? '', /Accept/)
  assert.equal(res.headers.get('content-location'), `/ipfs/${leaf.cid}?format=raw`)
  assert.ok(res.headers.get('etag'))
  const byQuery = await get(`${gw.url}/ipfs/${leaf.cid}?format=raw`)
  assert.equal(byQuery.status, 200)
  assert.equal(byQuery.headers.get('content-location'), null, 'the format came from the URL')
  sameBytes(new Uint8Array(await byQuery.arrayBuffer()), leaf.bytes)
  // The spec's probe: the empty identity CID is an empty raw block.
  const probe = await get(`${gw.url}/ipfs/bafkqaaa?format=raw`)
  assert.equal(probe.status, 200)
  assert.equal((await probe.arrayBuffer()).byteLength, 0)
})

test('a CAR from the cache: DFS order, header root, Content-Type params, dups=y repeats and dups=n does not', async (t) => {
  const gw = await startGateway(t, { retrieval: false })
  const dag = await repeatedChunks(4)
  await gw.put(dag.blocks)
  assert.equal(dag.blocks.length, 2, 'a root and one leaf it links four times')
  const [root, leaf] = dag.blocks
  const y = await get(`${gw.url}/ipfs/${dag.root}`, { Accept: `${CAR};version=1;order=dfs;dups=y` })
  assert.equal(y.status, 200)
  assert.equal(y.headers.get('content-type'), `${CAR};version=1;order=dfs;dups=y`)
  assert.equal(y.headers.get('x-ipfs-roots'), dag.root.toString())
  assert.equal(y.headers.get('content-disposition'), `attachment; filename="${dag.root}.car"`)
  const carY = await readCar(new Uint8Array(await y.arrayBuffer()))
  assert.deepEqual(ids(carY.roots.map((cid) => ({ cid }))), [dag.root.toString()])
  assert.deepEqual(ids(carY.blocks), ids([root, leaf, leaf, leaf, leaf]))
  const n = await get(`${gw.url}/ipfs/${dag.root}?format=car&car-dups=n`)
  assert.equal(n.headers.get('content-type'), `${CAR};version=1;order=dfs;dups=n`)
  assert.deepEqual(ids((await readCar(new Uint8Array(await n.arrayBuffer()))).blocks), ids([root, leaf]))
  // Every block is the one its CID names (what a verifying client checks).
  for (const b of carY.blocks)
    sameBytes(b.bytes, multihashKey(b.cid) === multihashKey(root.cid) ? root.bytes : leaf.bytes)
})

test('dag-scope and entity-bytes select the blocks the spec names', async (t) => {
  const gw = await startGateway(t, { retrieval: false })
  // 10 leaves of 1 KiB under one root (UnixFS balanced, 174 links per node: one level).
  const dag = await importDag([{ path: 'f', content: text(7, 10 * 1024) }])
  await gw.put(dag.blocks)
  const car = async (query: string) => {
    const res = await get(`${gw.url}/ipfs/${dag.root}?format=car&${query}`)
    assert.equal(res.status, 200, query)
    return ids((await readCar(new Uint8Array(await res.arrayBuffer()))).blocks)
  }
  const all = ids(dag.blocks)
  assert.equal(all.length, 11)
  assert.deepEqual(await car('dag-scope=all'), all)
  assert.deepEqual(await car('dag-scope=entity'), all, 'a file entity is every block of the file')
  assert.deepEqual(await car('dag-scope=block'), [all[0]])
  // Bytes 1024..2047 are the second leaf; 1500..3000 span the second to the third.
  assert.deepEqual(await car('entity-bytes=1024:2047'), [all[0], all[2]])
  assert.deepEqual(await car('entity-bytes=1500:3000'), [all[0], all[2], all[3]])
  assert.deepEqual(await car('entity-bytes=-1024:*'), [all[0], all[10]], 'the last 1024 bytes')
  assert.deepEqual(await car('entity-bytes=0:*'), all)
  const outside = await get(`${gw.url}/ipfs/${dag.root}?format=car&entity-bytes=20000:30000`)
  assert.equal(outside.status, 400)
  assert.match(await outside.text(), /outside the 10240-byte file/)
})

test('pathing through a directory and a HAMT-sharded directory: path blocks first, then the entity', async (t) => {
  const gw = await startGateway(t, { retrieval: false })
  const plain = await importDag(
    [
      { path: 'docs/readme.txt', content: text(1) },
      { path: 'docs/sub/data.bin', content: text(2) }
    ],
    { wrap: true }
  )
  const files = Array.from({ length: 300 }, (_, i) => ({ path: `big/file-${i}.txt`, content: text(100 + i, 200) }))
  const sharded = await importDag(files, { shard: true, wrap: true })
  await gw.put([...plain.blocks, ...sharded.blocks])

  const target = plain.entries.get('docs/sub/data.bin')!
  const res = await get(`${gw.url}/ipfs/${plain.root}/docs/sub/data.bin`, { Accept: CAR })
  assert.equal(res.status, 200)
  const docs = plain.entries.get('docs')!
  const sub = plain.entries.get('docs/sub')!
  assert.equal(res.headers.get('x-ipfs-roots'), [plain.root, docs, sub, target].join(','))
  const got = ids((await readCar(new Uint8Array(await res.arrayBuffer()))).blocks)
  assert.deepEqual(got.slice(0, 4), [plain.root, docs, sub, target].map(String), 'directories, then the file root')
  assert.ok(got.length > 4, 'the file leaves follow')

  for (const name of ['file-0.txt', 'file-137.txt', 'file-299.txt']) {
    const want = sharded.entries.get(`big/${name}`)!
    const r = await get(`${gw.url}/ipfs/${sharded.root}/big/${name}?format=car&dag-scope=block`)
    assert.equal(r.status, 200, name)
    const roots = (r.headers.get('x-ipfs-roots') ?? '').split(',')
    assert.equal(roots.at(-1), want.toString(), `${name} resolves to the importer's CID`)
    const blocks = (await readCar(new Uint8Array(await r.arrayBuffer()))).blocks
    assert.equal(blocks.at(-1)?.cid.toString(), want.toString())
    assert.ok(blocks.length >= 3, 'the wrapper, at least one shard block, the file')
  }
  const shardRoot = sharded.entries.get('big')!
  const entity = await get(`${gw.url}/ipfs/${shardRoot}?format=car&dag-scope=entity`)
  const shardBlocks = (await readCar(new Uint8Array(await entity.arrayBuffer()))).blocks
  assert.ok(shardBlocks.length > 1, 'the root shard and its sub-shards')
  assert.ok(
    shardBlocks.every((b) => !files.some((f) => sharded.entries.get(f.path)?.equals(b.cid))),
    'entity scope of a HAMT directory carries shards, not the files'
  )
  const missing = await get(`${gw.url}/ipfs/${sharded.root}/big/nope.txt?format=car`)
  assert.equal(missing.status, 404)
  assert.match(await missing.text(), /no "nope.txt"/)
})

test('HEAD, If-None-Match 304, and the errors: 400, 406, 405, 404 without retrieval, 410 with the reason', async (t) => {
  const gw = await startGateway(t, { retrieval: false })
  const dag = await repeatedChunks(2)
  await gw.put(dag.blocks)
  const head = await get(`${gw.url}/ipfs/${dag.root}?format=car`, {}, 'HEAD')
  assert.equal(head.status, 200)
  assert.match(head.headers.get('content-type') ?? '', /^application\/vnd\.ipld\.car;version=1/)
  assert.equal((await head.arrayBuffer()).byteLength, 0)
  const etag = head.headers.get('etag')!
  assert.match(etag, /^W\/"/)
  const cached = await get(`${gw.url}/ipfs/${dag.root}?format=car`, { 'If-None-Match': etag })
  assert.equal(cached.status, 304)
  const otherShape = await get(`${gw.url}/ipfs/${dag.root}?format=car&dag-scope=block`, { 'If-None-Match': etag })
  assert.equal(otherShape.status, 200, 'another scope is another entity tag')
  await otherShape.arrayBuffer()

  const badCid = await get(`${gw.url}/ipfs/not-a-cid?format=raw`)
  assert.equal(badCid.status, 400)
  assert.match(await badCid.text(), /"not-a-cid" is not a CID/)
  // fetch() sends Accept: */* by default, which go-trustless-utils (and this gateway) read as CAR.
  const star = await get(`${gw.url}/ipfs/${dag.root}`)
  assert.match(star.headers.get('content-type') ?? '', /^application\/vnd\.ipld\.car;/)
  await star.arrayBuffer()
  const noFormat = await new Promise<number>((resolve, reject) =>
    request(`${gw.url}/ipfs/${dag.root}`, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
      .on('error', reject)
      .end()
  )
  assert.equal(noFormat, 400, 'no Accept and no format')
  for (const q of [
    'format=tar',
    'format=car&dag-scope=some',
    'format=car&car-version=2',
    'format=raw&x=1&dag-scope=all'
  ]) {
    const r = await get(`${gw.url}/ipfs/${dag.root}?${q}`)
    assert.equal(r.status, 400, q)
    await r.arrayBuffer()
  }
  const rawWithPath = await get(`${gw.url}/ipfs/${dag.root}/x?format=raw`)
  assert.equal(rawWithPath.status, 400)
  await rawWithPath.arrayBuffer()
  const html = await get(`${gw.url}/ipfs/${dag.root}`, { Accept: 'text/html' })
  assert.equal(html.status, 406)
  await html.arrayBuffer()
  const post = await fetch(`${gw.url}/ipfs/${dag.root}`, { method: 'POST' })
  assert.equal(post.status, 405)
  assert.equal(post.headers.get('allow'), 'GET, HEAD, OPTIONS')
  await post.arrayBuffer()
  const admin = await get(`${gw.url}/api/v1/stats`)
  assert.equal(admin.status, 404, 'no admin routes on the public listener')
  await admin.arrayBuffer()
  const absent = CID.createV1(raw.code, await identity.digest(new Uint8Array([1])))
  const unknown = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
  const notHere = await get(`${gw.url}/ipfs/${unknown}?format=raw`)
  assert.equal(notHere.status, 404, 'not cached and retrieval is off')
  await notHere.arrayBuffer()
  assert.equal((await get(`${gw.url}/ipfs/${absent}?format=raw`)).status, 200, 'identity blocks need no cache')

  gw.deny(dag.root, 'court order 42')
  const gone = await get(`${gw.url}/ipfs/${dag.root}?format=car`)
  assert.equal(gone.status, 410)
  assert.match(await gone.text(), /blacklisted_cid: .*court order 42/)
  const refusal = gw.records.find((r) => r.type === 'refusal')
  assert.ok(refusal && refusal.type === 'refusal' && refusal.reason === 'blacklisted_cid')
  assert.match(refusal.peer, /^http-gateway:127\.0\.0\.1$/)
})

test('every request becomes a record with protocol http-gateway and a metrics event', async (t) => {
  const gw = await startGateway(t, { retrieval: false })
  const dag = await repeatedChunks(3)
  await gw.put(dag.blocks)
  const res = await get(`${gw.url}/ipfs/${dag.root}?format=car`)
  const body = new Uint8Array(await res.arrayBuffer())
  const bad = await get(`${gw.url}/ipfs/${dag.root}?format=nope`)
  await bad.arrayBuffer()
  // The record is written once the response has closed.
  for (let i = 0; i < 50 && gw.requests.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
  const attempts = gw.records.filter((r) => r.type === 'attempt')
  assert.equal(attempts.length, 2)
  const [ok, failed] = attempts
  assert.ok(ok.type === 'attempt' && failed.type === 'attempt')
  assert.equal(ok.protocol, 'http-gateway')
  assert.equal(ok.outcome, 'success')
  assert.equal(ok.bytes, body.byteLength)
  assert.equal(ok.blocks, 4)
  assert.equal(failed.outcome, 'failed')
  assert.match(failed.errorMessage ?? '', /^HTTP 400/)
  assert.deepEqual(
    gw.requests.map((r) => [r.format, r.status]),
    [
      ['car', 200],
      ['none', 400]
    ]
  )
  const stats = gw.gateway.stats()
  assert.equal(stats.requests, 2)
  assert.equal(stats.errors, 1)
  assert.equal(stats.bytesSent, body.byteLength)
})

test('a client that stops reading is cut off after the send timeout; nothing piles up for it', {
  timeout: 60_000
}, async (t) => {
  const gw = await startGateway(t, { retrieval: false, init: { sendTimeoutMs: 300 } })
  const fx = await createUnixfsFixture({ size: 16 * 1024 * 1024, chunkSize: 256 * 1024, seed: 12 })
  await gw.put(fx.blocks)
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(`${gw.url}/ipfs/${fx.root}?format=car`, resolve)
    req.on('error', reject)
    req.end()
  })
  t.after(() => res.destroy())
  assert.equal(res.statusCode, 200)
  // Never read: the socket buffers fill, then the gateway waits for a drain that never comes. (The
  // client cannot see the cut until it reads what is already in its socket: TCP delivers in order.)
  res.pause()
  res.on('error', () => {})
  await waitUntil('the gateway gave up on the client', () => gw.gateway.stats().active === 0, { timeoutMs: 30_000 })
  const stats = gw.gateway.stats()
  assert.equal(stats.errors, 1, 'counted as a cut stream')
  assert.ok(stats.bytesSent < fx.car.byteLength / 2, `sent ${stats.bytesSent} bytes: only what the socket buffers took`)
})
