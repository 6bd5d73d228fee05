import assert from 'node:assert/strict'
import test from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { startLotus } from '../src/lotus.ts'

const PEER = '12D3KooW9yi2xLhXds9HC4x9vRN99mphq6ds8qN2YRf8zks1F32G'
const ADDRS = ['/ip4/10.0.0.1/tcp/24001', '/dns4/sp.example/tcp/443/wss']

const rpc = (url: string, method: string, params: unknown[], headers: Record<string, string> = {}) =>
  fetch(`${url}/rpc/v1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params })
  })

test('answers Filecoin.StateMinerInfo like Lotus: PeerId and base64 binary Multiaddrs', async (t) => {
  const lotus = await startLotus({ miners: { f01234: { peerId: PEER, multiaddrs: ADDRS } } })
  t.after(() => lotus.close())
  assert.match(lotus.apiInfo, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/http$/)
  const res = await rpc(lotus.url, 'Filecoin.StateMinerInfo', ['f01234', null])
  const body = (await res.json()) as { jsonrpc: string; id: number; result: { PeerId: string; Multiaddrs: string[] } }
  assert.equal(body.jsonrpc, '2.0')
  assert.equal(body.id, 7)
  assert.equal(body.result.PeerId, PEER)
  assert.deepEqual(
    body.result.Multiaddrs.map((b) => multiaddr(Buffer.from(b, 'base64')).toString()),
    ADDRS
  )
  assert.equal(lotus.calls, 1)
})

test('an unknown miner is a JSON-RPC error saying actor not found; other methods are not found', async (t) => {
  const lotus = await startLotus({ miners: {} })
  t.after(() => lotus.close())
  const unknown = (await (await rpc(lotus.url, 'Filecoin.StateMinerInfo', ['f0999', null])).json()) as {
    error: { code: number; message: string }
  }
  assert.equal(unknown.error.code, 1)
  assert.match(unknown.error.message, /actor not found/)
  const other = (await (await rpc(lotus.url, 'Filecoin.StateMarketDeals', [null])).json()) as {
    error: { code: number }
  }
  assert.equal(other.error.code, -32601)
  assert.equal(lotus.calls, 1, 'only StateMinerInfo calls are counted')
})

test('with a token, a request without the bearer token is refused (401)', async (t) => {
  const lotus = await startLotus({ miners: { f01234: { peerId: PEER, multiaddrs: [] } }, token: 'secret' })
  t.after(() => lotus.close())
  assert.match(lotus.apiInfo, /^secret:\/ip4\//)
  assert.equal((await rpc(lotus.url, 'Filecoin.StateMinerInfo', ['f01234', null])).status, 401)
  const ok = await rpc(lotus.url, 'Filecoin.StateMinerInfo', ['f01234', null], { Authorization: 'Bearer secret' })
  assert.equal(ok.status, 200)
})
