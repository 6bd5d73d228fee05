import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import test from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startLotus } from '@autoretrieve/testkit'
import { createEstuarySource, createLotusMinerResolver, type MinerResolver } from '../src/index.ts'
import { cidOf, collect, isError, PEERS } from './helpers.ts'

type After = { after(fn: () => unknown): void }

const ROOT_A = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const ROOT_B = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const MINERS = {
  f01234: { peerId: PEERS.a, multiaddrs: ['/ip4/10.0.0.1/tcp/24001', '/dns4/sp.example/tcp/443/wss'] },
  f05678: { peerId: PEERS.b, multiaddrs: ['/ip4/10.0.0.2/tcp/24001'] }
}

/** An Estuary retrieval-candidates endpoint on loopback answering whatever `answer` holds. */
async function estuary(t: After, answer: { status: number; body: string }) {
  const paths: string[] = []
  const server = createServer((req, res) => {
    paths.push(req.url ?? '')
    res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/retrieval-candidates`, paths }
}

async function lotus(t: After, token?: string) {
  const l = await startLotus({ miners: MINERS, token })
  t.after(() => l.close())
  return l
}

const deal = (miner: string, root: string, id: number) => ({ Miner: miner, RootCid: { '/': root }, DealID: id })

test('Estuary candidates: each miner resolved through Lotus, RootCid as the payload root', async (t) => {
  const l = await lotus(t)
  const answer = {
    status: 200,
    body: JSON.stringify([deal('f01234', ROOT_A, 1), deal('f01234', ROOT_A, 2), deal('f05678', ROOT_B, 3)])
  }
  const e = await estuary(t, answer)
  const resolver = createLotusMinerResolver({}, { apiInfo: l.apiInfo })
  const source = createEstuarySource({ resolver }, { endpointUrl: e.url })
  const cid = await cidOf('inside an aggregate')
  const found = await collect(source.find(cid))
  assert.deepEqual(e.paths, [`/retrieval-candidates/${cid}`])
  assert.deepEqual(found, [
    {
      peerId: PEERS.a,
      minerAddress: 'f01234',
      addrs: MINERS.f01234.multiaddrs,
      protocols: ['graphsync'],
      httpUrls: [],
      rootCid: ROOT_A,
      source: 'estuary'
    },
    {
      peerId: PEERS.b,
      minerAddress: 'f05678',
      addrs: MINERS.f05678.multiaddrs,
      protocols: ['graphsync'],
      httpUrls: [],
      rootCid: ROOT_B,
      source: 'estuary'
    }
  ])
  assert.equal(l.calls, 2, 'two deals with one miner make one Lotus call')

  await collect(source.find(cid))
  assert.equal(l.calls, 2, 'a cache hit makes no second call')

  answer.body = 'null'
  assert.deepEqual(await collect(source.find(cid)), [], 'null is no deals')
  answer.status = 404
  assert.deepEqual(await collect(source.find(cid)), [], '404 is no deals')
})

test('a miner Lotus does not know fails the lookup with a MinerResolutionError naming it', async (t) => {
  const l = await lotus(t)
  const e = await estuary(t, {
    status: 200,
    body: JSON.stringify([deal('f01234', ROOT_A, 1), deal('f0999', ROOT_A, 2)])
  })
  const resolver = createLotusMinerResolver({}, { apiInfo: l.apiInfo })
  const source = createEstuarySource({ resolver }, { endpointUrl: e.url })
  const cid = await cidOf('x')
  await assert.rejects(collect(source.find(cid)), (err: Error & { code?: string; miner?: string }) => {
    assert.equal(err.name, 'MinerResolutionError')
    assert.equal(err.code, 'ERR_MINER_RESOLUTION')
    assert.equal(err.miner, 'f0999')
    assert.match(err.message, /f0999/)
    return true
  })
  const calls = l.calls
  await assert.rejects(resolver.resolve('f0999'), isError('MinerResolutionError'))
  assert.equal(l.calls, calls, 'a failure is remembered for a while, not asked again at once')
})

test('the resolver: token auth, shared concurrent calls, failures retried after their TTL, abort', async (t) => {
  const l = await lotus(t, 'eyJh.eyJB.sig')
  const resolver: MinerResolver = createLotusMinerResolver({}, { apiInfo: l.apiInfo, failureTtlMs: 0 })
  const [one, two] = await Promise.all([resolver.resolve('f05678'), resolver.resolve('f05678')])
  assert.deepEqual(one, { peerId: PEERS.b, addrs: MINERS.f05678.multiaddrs })
  assert.deepEqual(two, one)
  assert.equal(l.calls, 1, 'concurrent lookups of one miner share a call')

  await assert.rejects(resolver.resolve('f0999'), isError('MinerResolutionError', 'ERR_MINER_RESOLUTION'))
  await assert.rejects(resolver.resolve('f0999'), isError('MinerResolutionError', 'ERR_MINER_RESOLUTION'))
  assert.equal(l.calls, 3, 'with a zero failure TTL the miner is asked about again')

  const wrongToken = createLotusMinerResolver({}, { apiInfo: l.apiInfo.replace(/^[^:]+/, 'wrong') })
  await assert.rejects(wrongToken.resolve('f01234'), isError('MinerResolutionError', 'ERR_MINER_RESOLUTION'))

  await assert.rejects(resolver.resolve('f01234', { signal: AbortSignal.abort() }), isError('AbortError'))
})

test('the resolver forgets an answer after cacheTtlMs and a failure after failureTtlMs, not before', async (t) => {
  const l = await lotus(t)
  const resolver = createLotusMinerResolver({}, { apiInfo: l.apiInfo, cacheTtlMs: 200, failureTtlMs: 200 })
  await resolver.resolve('f01234')
  await assert.rejects(resolver.resolve('f0999'), isError('MinerResolutionError'))
  await resolver.resolve('f01234')
  await assert.rejects(resolver.resolve('f0999'), isError('MinerResolutionError'))
  assert.equal(l.calls, 2, 'within the TTLs both come from the cache')
  await sleep(250)
  await resolver.resolve('f01234')
  await assert.rejects(resolver.resolve('f0999'), isError('MinerResolutionError'))
  assert.equal(l.calls, 4, 'past the TTLs Lotus is asked again')
})

test('Lotus unreachable or Estuary answering garbage are typed errors', async (t) => {
  const l = await startLotus({ miners: MINERS })
  await l.close()
  const resolver = createLotusMinerResolver({}, { apiInfo: l.apiInfo, timeoutMs: 2_000 })
  await assert.rejects(resolver.resolve('f01234'), isError('MinerResolutionError', 'ERR_MINER_RESOLUTION'))

  const cid = await cidOf('x')
  for (const body of [
    '{"oops"',
    '{"Miner": "f01234"}',
    '[{"Miner": "f01234", "RootCid": "not a link"}]',
    '[{"Miner": 7}]'
  ]) {
    const e = await estuary(t, { status: 200, body })
    const source = createEstuarySource({ resolver }, { endpointUrl: e.url })
    await assert.rejects(collect(source.find(cid)), isError('IndexerResponseError', 'ERR_INDEXER_RESPONSE'), body)
  }
})
