import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import test from 'node:test'
import { type IndexerProviderRecord, startIndexer } from '@autoretrieve/testkit'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { type Candidate, createIpniSource } from '../src/index.ts'
import { cannedFetch, cidOf, collect, isError, PEERS } from './helpers.ts'

type After = { after(fn: () => unknown): void }

const PIECE = 'baga6ea4seaqoy7ign7devyfqxrvcrsutt2luxb3cm35axp6ylqht5iuijuqcmey'

/** Boost-like: graphsync on libp2p addresses and HTTP on its HTTP address, same peer; plus a Bitswap peer and us. */
function boostAndFriends(): IndexerProviderRecord[] {
  return [
    {
      peerId: PEERS.a,
      addrs: ['/ip4/10.0.0.1/tcp/24001'],
      protocols: ['graphsync'],
      graphsync: { pieceCid: PIECE, verifiedDeal: true, fastRetrieval: true }
    },
    { peerId: PEERS.a, addrs: ['/dns4/sp.example/tcp/443/https'], protocols: ['http'] },
    { peerId: PEERS.b, addrs: ['/ip4/10.0.0.2/tcp/4001'], protocols: ['bitswap'] },
    { peerId: PEERS.c, addrs: ['/ip4/127.0.0.1/tcp/6746'], protocols: ['bitswap'] }
  ]
}

async function indexer(
  t: After,
  providers: IndexerProviderRecord[],
  fault?: Parameters<typeof startIndexer>[0]['fault']
) {
  const ix = await startIndexer({ providers, fault })
  t.after(() => ix.close())
  return ix
}

const byPeer = (list: Candidate[]) => Object.fromEntries(list.map((c) => [c.peerId, c]))

/**
 * NDJSON groups the records that arrive together; a record of a known peer arriving later is
 * yielded with only its new protocols. Which lines share a network chunk is up to the sockets,
 * so for NDJSON the test checks that no (peer, protocol) repeats and then merges per peer.
 */
function mergeByPeer(list: Candidate[]): Candidate[] {
  const out = new Map<string, Candidate>()
  for (const c of list) {
    const prev = out.get(c.peerId)
    if (prev === undefined) {
      out.set(c.peerId, structuredClone(c))
      continue
    }
    for (const p of c.protocols) assert.ok(!prev.protocols.includes(p), `${c.peerId} ${p} reported twice`)
    prev.protocols.push(...c.protocols)
    prev.addrs.push(...c.addrs.filter((a) => !prev.addrs.includes(a)))
    prev.httpUrls.push(...c.httpUrls)
    prev.graphsync ??= c.graphsync
  }
  return [...out.values()]
}

for (const preferNdjson of [true, false]) {
  const form = preferNdjson ? 'NDJSON' : 'JSON'
  test(`${form}: one candidate per provider with all its protocols, our own peer left out`, async (t) => {
    const ix = await indexer(t, boostAndFriends())
    const root = await cidOf('hello')
    const source = createIpniSource({}, { endpointUrl: ix.url, selfPeerId: PEERS.c, preferNdjson })
    const raw = await collect(source.find(root))
    if (!preferNdjson) assert.equal(raw.length, 2, 'JSON: exactly one candidate per provider')
    const found = preferNdjson ? mergeByPeer(raw) : raw

    assert.equal(ix.requests.length, 1)
    assert.equal(ix.requests[0].path, `/cid/${root}`)
    assert.equal(ix.requests[0].accept?.startsWith('application/x-ndjson'), preferNdjson)
    assert.deepEqual(found.map((c) => c.peerId).sort(), [PEERS.a, PEERS.b].sort())
    const { [PEERS.a]: boost, [PEERS.b]: bitswap } = byPeer(found)
    assert.deepEqual(boost, {
      peerId: PEERS.a,
      addrs: ['/ip4/10.0.0.1/tcp/24001', '/dns4/sp.example/tcp/443/https'],
      protocols: ['graphsync', 'http'],
      httpUrls: ['https://sp.example'],
      graphsync: { pieceCid: PIECE, verifiedDeal: true, fastRetrieval: true },
      rootCid: root.toString(),
      source: 'ipni'
    })
    assert.deepEqual(bitswap.protocols, ['bitswap'])
    assert.deepEqual(bitswap.httpUrls, [], 'a libp2p address is no HTTP URL')
  })
}

test('a provider that advertises other CIDs is not a candidate; none at all (404) is an empty stream', async (t) => {
  const wanted = await cidOf('wanted')
  const other = await cidOf('other')
  const ix = await indexer(t, [
    { peerId: PEERS.a, addrs: ['/ip4/10.0.0.1/tcp/1'], protocols: ['bitswap'], cids: [other.toString()] }
  ])
  const source = createIpniSource({}, { endpointUrl: ix.url })
  assert.deepEqual(await collect(source.find(wanted)), [])
  // Matched by multihash, as IPNI does: the CIDv0/dag-pb form of the same digest finds it too.
  const sameDigest = CID.createV1(0x70, other.multihash)
  assert.equal((await collect(source.find(sameDigest))).length, 1)
})

test('a garbage answer is an IndexerResponseError, in JSON and in NDJSON', async (t) => {
  const ix = await indexer(t, boostAndFriends(), 'garbage')
  const root = await cidOf('x')
  for (const preferNdjson of [true, false]) {
    const source = createIpniSource({}, { endpointUrl: ix.url, preferNdjson })
    await assert.rejects(collect(source.find(root)), isError('IndexerResponseError', 'ERR_INDEXER_RESPONSE'))
  }
})

test('a 500 or an unreachable indexer is an IndexerUnavailableError', async (t) => {
  const ix = await indexer(t, boostAndFriends(), 'status500')
  const root = await cidOf('x')
  await assert.rejects(
    collect(createIpniSource({}, { endpointUrl: ix.url }).find(root)),
    isError('IndexerUnavailableError', 'ERR_INDEXER_UNAVAILABLE')
  )
  const gone = await startIndexer({ providers: [] })
  await gone.close()
  await assert.rejects(
    collect(createIpniSource({}, { endpointUrl: gone.url }).find(root)),
    isError('IndexerUnavailableError', 'ERR_INDEXER_UNAVAILABLE')
  )
})

test('an indexer that does not answer in time is an IndexerTimeoutError', async (t) => {
  const ix = await indexer(t, boostAndFriends(), 'delay:3000')
  const source = createIpniSource({}, { endpointUrl: ix.url, timeoutMs: 150 })
  await assert.rejects(collect(source.find(await cidOf('x'))), isError('IndexerTimeoutError', 'ERR_INDEXER_TIMEOUT'))
})

test('the deadline covers the body: a stream that stalls yields what came, then times out', async (t) => {
  const ix = await indexer(t, boostAndFriends(), 'slow:3000')
  const source = createIpniSource({}, { endpointUrl: ix.url, timeoutMs: 300 })
  const got: Candidate[] = []
  await assert.rejects(
    (async () => {
      for await (const c of source.find(await cidOf('x'))) got.push(c)
    })(),
    isError('IndexerTimeoutError', 'ERR_INDEXER_TIMEOUT')
  )
  assert.equal(got.length, 1, 'the first record was yielded before the stall')
})

test('NDJSON candidates arrive as the indexer streams them; breaking out ends the lookup', async (t) => {
  // Records 10 s apart: reaching the first candidate and leaving promptly proves it streamed.
  const ix = await indexer(t, boostAndFriends(), 'slow:10000')
  const source = createIpniSource({}, { endpointUrl: ix.url, timeoutMs: 30_000 })
  let first: Candidate | undefined
  for await (const c of source.find(await cidOf('x'))) {
    first = c
    break
  }
  assert.equal(first?.peerId, PEERS.a)
})

test('aborting the caller signal rejects with its AbortError, before or during the lookup', async (t) => {
  const ix = await indexer(t, boostAndFriends(), 'delay:5000')
  const source = createIpniSource({}, { endpointUrl: ix.url, timeoutMs: 10_000 })
  const root = await cidOf('x')
  await assert.rejects(collect(source.find(root, { signal: AbortSignal.abort() })), isError('AbortError'))
  const controller = new AbortController()
  const pending = collect(source.find(root, { signal: controller.signal }))
  setTimeout(() => controller.abort(), 50)
  await assert.rejects(pending, isError('AbortError'))
})

test('the IPNI spec example answers decode (JSON, and NDJSON with its blank line)', async () => {
  const vectors = JSON.parse(readFileSync(new URL('./fixtures/ipni-find-examples.json', import.meta.url), 'utf8'))
  const mh = Digest.decode(Buffer.from(vectors.specExampleDecoded.multihashHex, 'hex'))
  const root = CID.createV1(0x55, mh)
  const json = createIpniSource(
    { fetch: cannedFetch(JSON.stringify(vectors.specExampleJson)) },
    { endpointUrl: 'http://indexer.invalid' }
  )
  const fromJson = await collect(json.find(root))
  assert.deepEqual(
    fromJson.map((c) => [c.peerId, c.protocols, c.graphsync?.pieceCid]),
    [
      [PEERS.legacy, ['bitswap'], undefined],
      [PEERS.a, ['graphsync'], vectors.specExampleDecoded.result1.graphsync.PieceCID]
    ]
  )
  // Results for another multihash (a batch answer) are not ours.
  const elsewhere = await collect(json.find(await cidOf('another')))
  assert.deepEqual(elsewhere, [])

  const ndjson = createIpniSource(
    { fetch: cannedFetch(vectors.specExampleNdjson, 'application/x-ndjson') },
    { endpointUrl: 'http://indexer.invalid' }
  )
  const fromNdjson = await collect(ndjson.find(root))
  assert.deepEqual(
    fromNdjson.map((c) => [c.peerId, c.protocols, c.addrs.length]),
    [
      [PEERS.b, ['bitswap'], 6],
      [PEERS.c, ['bitswap'], 6]
    ]
  )
})

test('wrong types and bad base64 are IndexerResponseErrors, never a crash', async () => {
  const root = await cidOf('x')
  const ok = { Metadata: 'gBI=', Provider: { ID: PEERS.a, Addrs: ['/ip4/10.0.0.1/tcp/1'] } }
  const bodies: Array<[string, unknown]> = [
    ['not an object', []],
    ['MultihashResults a string', { MultihashResults: 'x' }],
    ['ProviderResults an object', { MultihashResults: [{ ProviderResults: {} }] }],
    ['a result that is a number', { MultihashResults: [{ ProviderResults: [7] }] }],
    ['no Provider', { MultihashResults: [{ ProviderResults: [{ Metadata: 'gBI=' }] }] }],
    ['ID a number', { MultihashResults: [{ ProviderResults: [{ ...ok, Provider: { ID: 42 } }] }] }],
    ['ID not a peer ID', { MultihashResults: [{ ProviderResults: [{ ...ok, Provider: { ID: 'nope' } }] }] }],
    [
      'Addrs a string',
      { MultihashResults: [{ ProviderResults: [{ ...ok, Provider: { ID: PEERS.a, Addrs: '/ip4' } }] }] }
    ],
    ['Metadata a number', { MultihashResults: [{ ProviderResults: [{ ...ok, Metadata: 12 }] }] }],
    ['Metadata bad base64', { MultihashResults: [{ ProviderResults: [{ ...ok, Metadata: 'gB*I' }] }] }],
    ['Multihash bad base64', { MultihashResults: [{ Multihash: '%%', ProviderResults: [ok] }] }]
  ]
  for (const [what, body] of bodies) {
    const source = createIpniSource(
      { fetch: cannedFetch(JSON.stringify(body)) },
      { endpointUrl: 'http://indexer.invalid' }
    )
    await assert.rejects(collect(source.find(root)), isError('IndexerResponseError', 'ERR_INDEXER_RESPONSE'), what)
  }
  const ndjson = createIpniSource(
    { fetch: cannedFetch(`${JSON.stringify(ok)}\n{"Metadata": \n`, 'application/x-ndjson') },
    { endpointUrl: 'http://indexer.invalid' }
  )
  await assert.rejects(collect(ndjson.find(root)), isError('IndexerResponseError', 'ERR_INDEXER_RESPONSE'))
})

test('a record without metadata, or with metadata that does not parse, is skipped, not fatal', async () => {
  const root = await cidOf('x')
  const results = [
    { Provider: { ID: PEERS.a, Addrs: [] } },
    { Metadata: 'kBI=', Provider: { ID: PEERS.b, Addrs: [] } }, // graphsync code, no payload
    { Metadata: 'sBIA', Provider: { ID: PEERS.b, Addrs: [] } }, // piece HTTP only: nothing we speak
    { Metadata: 'oBIA', Provider: { ID: PEERS.c, Addrs: ['/ip4/10.0.0.3/tcp/8080/http'] } }
  ]
  const source = createIpniSource(
    { fetch: cannedFetch(JSON.stringify({ MultihashResults: [{ ProviderResults: results }] })) },
    { endpointUrl: 'http://indexer.invalid' }
  )
  const found = await collect(source.find(root))
  assert.deepEqual(
    found.map((c) => [c.peerId, c.protocols, c.httpUrls]),
    [[PEERS.c, ['http'], ['http://10.0.0.3:8080']]]
  )
})
