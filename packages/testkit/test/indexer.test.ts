import assert from 'node:assert/strict'
import test from 'node:test'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { encodeMetadata, startIndexer } from '../src/indexer.ts'

const PEER = '12D3KooW9yi2xLhXds9HC4x9vRN99mphq6ds8qN2YRf8zks1F32G'
const GRAPHSYNC_SPEC_EXAMPLE =
  'kBKjaFBpZWNlQ0lE2CpYKAABgeIDkiAg7H0Gb8ZK4LC8aijKk56XS4diZvoLv9hcDz6iiE0gJhNsVmVyaWZpZWREZWFs9W1GYXN0UmV0cmlldmFs9Q=='

const cidOf = async (s: string) => CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(s)))

test('encodes metadata byte for byte as the IPNI spec and go-libipni do', () => {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
  assert.equal(b64(encodeMetadata('bitswap')), 'gBI=')
  assert.equal(b64(encodeMetadata('http')), 'oBIA')
  assert.equal(b64(encodeMetadata('graphsync', { verifiedDeal: true, fastRetrieval: true })), GRAPHSYNC_SPEC_EXAMPLE)
})

test('answers /cid and /multihash in JSON or NDJSON as asked, 404 when unknown, 400/406 for bad requests', async (t) => {
  const cid = await cidOf('a')
  const ix = await startIndexer({
    providers: [
      { peerId: PEER, addrs: ['/ip4/10.0.0.1/tcp/1'], protocols: ['bitswap', 'http'], cids: [cid.toString()] }
    ]
  })
  t.after(() => ix.close())

  const json = await fetch(`${ix.url}/cid/${cid}`)
  assert.equal(json.status, 200)
  assert.match(json.headers.get('Content-Type') ?? '', /^application\/json/)
  const body = (await json.json()) as { MultihashResults: Array<{ Multihash: string; ProviderResults: unknown[] }> }
  assert.equal(body.MultihashResults[0].Multihash, Buffer.from(cid.multihash.bytes).toString('base64'))
  assert.deepEqual(
    body.MultihashResults[0].ProviderResults.map((r) => (r as { Metadata: string }).Metadata),
    ['gBI=', 'oBIA'],
    'one ProviderResult per protocol, like extended providers'
  )

  const nd = await fetch(`${ix.url}/cid/${cid}`, { headers: { Accept: 'application/x-ndjson' } })
  assert.equal(nd.headers.get('Content-Type'), 'application/x-ndjson')
  const lines = (await nd.text()).split('\n').filter(Boolean)
  assert.equal(lines.length, 2)
  assert.equal(JSON.parse(lines[0]).Provider.ID, PEER)

  // Lassie's form: bare base58btc multihash; storetheindex also takes hex.
  const b58 = base58btc.baseEncode(cid.multihash.bytes)
  assert.equal((await fetch(`${ix.url}/multihash/${b58}`)).status, 200)
  assert.equal((await fetch(`${ix.url}/multihash/${Buffer.from(cid.multihash.bytes).toString('hex')}`)).status, 200)

  assert.equal((await fetch(`${ix.url}/cid/${await cidOf('b')}`)).status, 404)
  assert.equal((await fetch(`${ix.url}/cid/not-a-cid`)).status, 400)
  assert.equal((await fetch(`${ix.url}/multihash/0OIl`)).status, 400)
  assert.equal((await fetch(`${ix.url}/cid/${cid}`, { headers: { Accept: 'text/html' } })).status, 406)
  assert.deepEqual(ix.requests[1], { path: `/cid/${cid}`, accept: 'application/x-ndjson' })
})

test('answers delegated routing with protocol names and their metadata, 404 when unknown', async (t) => {
  const cid = await cidOf('dr')
  const ix = await startIndexer({
    providers: [
      { peerId: PEER, addrs: ['/ip4/10.0.0.1/tcp/1'], protocols: ['graphsync'], graphsync: { verifiedDeal: true } }
    ]
  })
  t.after(() => ix.close())
  const res = await fetch(`${ix.url}/routing/v1/providers/${cid}`)
  const { Providers } = (await res.json()) as { Providers: Array<Record<string, unknown>> }
  assert.equal(Providers[0].Schema, 'peer')
  assert.deepEqual(Providers[0].Protocols, ['transport-graphsync-filecoinv1'])
  assert.equal(typeof Providers[0]['transport-graphsync-filecoinv1'], 'string')
  ix.setProviders([])
  assert.equal((await fetch(`${ix.url}/routing/v1/providers/${cid}`)).status, 404)
})

test('faults: status500, garbage, delay and slow, switchable while running', async (t) => {
  const cid = await cidOf('f')
  const ix = await startIndexer({
    providers: [
      { peerId: PEER, addrs: [], protocols: ['bitswap'] },
      { peerId: PEER, addrs: [], protocols: ['http'] }
    ],
    fault: 'status500'
  })
  t.after(() => ix.close())
  assert.equal((await fetch(`${ix.url}/cid/${cid}`)).status, 500)

  ix.setFault('garbage')
  const garbage = await fetch(`${ix.url}/cid/${cid}`)
  assert.equal(garbage.status, 200)
  await assert.rejects(garbage.json())
  const ndGarbage = await fetch(`${ix.url}/cid/${cid}`, { headers: { Accept: 'application/x-ndjson' } })
  const firstLine = (await ndGarbage.text()).split('\n')[0]
  assert.throws(() => JSON.parse(firstLine))

  ix.setFault('slow:100')
  const slow = await fetch(`${ix.url}/cid/${cid}`, { headers: { Accept: 'application/x-ndjson' } })
  assert.equal(slow.status, 200, 'slow sends headers at once')
  assert.equal((await slow.text()).split('\n').filter(Boolean).length, 2, 'and every record, in time')

  ix.setFault('delay:100')
  assert.equal((await fetch(`${ix.url}/cid/${cid}`)).status, 200)
  ix.setFault('none')
  assert.equal((await fetch(`${ix.url}/cid/${cid}`)).status, 200)
})
