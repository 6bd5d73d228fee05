import assert from 'node:assert/strict'
import test from 'node:test'
import { startIndexer } from '@autoretrieve/testkit'
import { createDelegatedRoutingSource } from '../src/index.ts'
import { cannedFetch, cidOf, collect, isError, PEERS } from './helpers.ts'

const PIECE = 'baga6ea4seaqoy7ign7devyfqxrvcrsutt2luxb3cm35axp6ylqht5iuijuqcmey'

test('delegated routing: providers with their protocols, graphsync terms and HTTP URLs; self left out', async (t) => {
  const ix = await startIndexer({
    providers: [
      {
        peerId: PEERS.a,
        addrs: ['/ip4/10.0.0.1/tcp/24001', '/ip4/10.0.0.1/tcp/8080/http'],
        protocols: ['graphsync', 'http'],
        graphsync: { pieceCid: PIECE, verifiedDeal: true, fastRetrieval: false }
      },
      { peerId: PEERS.b, addrs: ['/ip4/10.0.0.2/tcp/4001'], protocols: ['bitswap'] },
      { peerId: PEERS.c, addrs: ['/ip4/127.0.0.1/tcp/6746'], protocols: ['bitswap'] }
    ]
  })
  t.after(() => ix.close())
  const root = await cidOf('dr')
  const source = createDelegatedRoutingSource({}, { endpointUrl: ix.url, selfPeerId: PEERS.c })
  const found = await collect(source.find(root))
  assert.equal(ix.requests[0].path, `/routing/v1/providers/${root}`)
  assert.ok(ix.requests[0].accept?.startsWith('application/x-ndjson'))
  assert.deepEqual(
    found.map((c) => c.peerId),
    [PEERS.a, PEERS.b]
  )
  assert.deepEqual(found[0], {
    peerId: PEERS.a,
    addrs: ['/ip4/10.0.0.1/tcp/24001', '/ip4/10.0.0.1/tcp/8080/http'],
    protocols: ['graphsync', 'http'],
    httpUrls: ['http://10.0.0.1:8080'],
    graphsync: { pieceCid: PIECE, verifiedDeal: true, fastRetrieval: false },
    rootCid: root.toString(),
    source: 'delegated-routing'
  })

  ix.setProviders([])
  assert.deepEqual(await collect(source.find(root)), [], '404 is no providers')
  ix.setFault('garbage')
  ix.setProviders([{ peerId: PEERS.a, addrs: [], protocols: ['bitswap'] }])
  await assert.rejects(collect(source.find(root)), isError('IndexerResponseError', 'ERR_INDEXER_RESPONSE'))
})

test('delegated routing: a JSON answer (null providers, legacy schemas, CID peer IDs) is read too', async () => {
  const root = await cidOf('dr-json')
  const body = {
    Providers: [
      {
        Schema: 'graphsync-filecoinv1',
        Protocol: 'transport-graphsync-filecoinv1',
        ID: PEERS.a,
        Addrs: ['/ip4/10.0.0.1/tcp/24001'],
        PieceCID: PIECE,
        VerifiedDeal: false,
        FastRetrieval: true
      },
      // A peer ID as a libp2p-key CID, and keys we do not know: both fine.
      {
        Schema: 'peer',
        ID: 'bafzaajaiaejca4qklfrn3aahraasacpi4qu4b7dhruf3z6bg3n4c3pla3qder5iu',
        Protocols: ['transport-bitswap'],
        Extra: 1
      },
      { Schema: 'something-new', ID: PEERS.c },
      { Schema: 'peer', ID: PEERS.c, Protocols: ['transport-unknown-thing'] }
    ]
  }
  const source = createDelegatedRoutingSource(
    { fetch: cannedFetch(JSON.stringify(body)) },
    { endpointUrl: 'http://routing.invalid' }
  )
  const found = await collect(source.find(root))
  assert.equal(found.length, 2)
  assert.deepEqual(found[0].graphsync, { pieceCid: PIECE, verifiedDeal: false, fastRetrieval: true })
  assert.deepEqual(found[1].protocols, ['bitswap'])
  assert.equal(found[1].peerId, PEERS.b, 'peer IDs come out in their canonical base58 form')

  const none = createDelegatedRoutingSource(
    { fetch: cannedFetch('{"Providers": null}') },
    { endpointUrl: 'http://routing.invalid' }
  )
  assert.deepEqual(await collect(none.find(root)), [])
  for (const bad of [
    '{"Providers": 3}',
    '{"Providers": [{"ID": "x"}]}',
    '{"Providers": [{"Schema": "peer", "ID": 5}]}'
  ]) {
    const source = createDelegatedRoutingSource({ fetch: cannedFetch(bad) }, { endpointUrl: 'http://routing.invalid' })
    await assert.rejects(collect(source.find(root)), isError('IndexerResponseError', 'ERR_INDEXER_RESPONSE'), bad)
  }
})
