import assert from 'node:assert/strict'
import test from 'node:test'
import { isMinerAddress, multiaddrToHttpUrl, parseApiInfo } from '../src/index.ts'

test('turns HTTP multiaddrs into base URLs', () => {
  const cases: Array<[string, string]> = [
    ['/dns4/sp.example/tcp/443/https', 'https://sp.example'],
    ['/dns/sp.example/tcp/8443/https', 'https://sp.example:8443'],
    // Port 80 is http's default, so the URL does not print it (http://1.2.3.4:80 is the same URL).
    ['/ip4/1.2.3.4/tcp/80/http', 'http://1.2.3.4'],
    ['/ip4/1.2.3.4/tcp/8080/http', 'http://1.2.3.4:8080'],
    ['/ip6/::1/tcp/8080/http', 'http://[::1]:8080'],
    ['/ip4/192.169.0.1/tls/http', 'https://192.169.0.1'],
    ['/dns/sp.example/tcp/443/tls/sni/sp.example/http', 'https://sp.example'],
    ['/dns4/sp.example/tcp/443/https/http-path/%2Fipfs%2Fgw', 'https://sp.example/ipfs/gw'],
    ['/ip4/127.0.0.1/tcp/9000/http/p2p/12D3KooW9yi2xLhXds9HC4x9vRN99mphq6ds8qN2YRf8zks1F32G', 'http://127.0.0.1:9000']
  ]
  for (const [ma, url] of cases) assert.equal(multiaddrToHttpUrl(ma), url, ma)
})

test('gives no URL for libp2p, WebSocket or broken addresses', () => {
  for (const ma of [
    '/ip4/149.5.22.10/tcp/24002',
    '/dns4/elastic.dag.house/tcp/443/wss',
    '/ip4/1.2.3.4/tcp/443/tls/ws',
    '/ip4/1.2.3.4/udp/4001/quic-v1',
    'not a multiaddr',
    ''
  ]) {
    assert.equal(multiaddrToHttpUrl(ma), undefined, ma)
  }
})

test('reads FULLNODE_API_INFO in its URL, multiaddr and token forms', () => {
  assert.deepEqual(parseApiInfo('wss://api.chain.love'), { url: 'https://api.chain.love/rpc/v1' })
  assert.deepEqual(parseApiInfo('ws://127.0.0.1:1234/rpc/v0'), { url: 'http://127.0.0.1:1234/rpc/v0' })
  assert.deepEqual(parseApiInfo('https://lotus.example/rpc/v1'), { url: 'https://lotus.example/rpc/v1' })
  assert.deepEqual(parseApiInfo('eyJh.eyJB.sig:/ip4/1.2.3.4/tcp/1234/http'), {
    url: 'http://1.2.3.4:1234/rpc/v1',
    token: 'eyJh.eyJB.sig'
  })
  assert.deepEqual(parseApiInfo('/ip4/1.2.3.4/tcp/1234'), { url: 'http://1.2.3.4:1234/rpc/v1' })
  assert.deepEqual(parseApiInfo('TOKEN:/dns/lotus.example/tcp/443/wss'), {
    url: 'https://lotus.example/rpc/v1',
    token: 'TOKEN'
  })
  for (const bad of ['', 'nonsense', 'ftp://lotus.example', 'TOKEN:/ip4/1.2.3.4/udp/1234']) {
    assert.throws(
      () => parseApiInfo(bad),
      (err: Error & { code?: string }) => err.name === 'InvalidApiInfoError' && err.code === 'ERR_INVALID_API_INFO',
      bad
    )
  }
})

test('recognises miner ID addresses', () => {
  for (const yes of ['f01234', 't01000', 'f00']) assert.equal(isMinerAddress(yes), true, yes)
  for (const no of [
    'f1abc',
    'f01234x',
    '01234',
    '',
    'F01234',
    '12D3KooW9yi2xLhXds9HC4x9vRN99mphq6ds8qN2YRf8zks1F32G'
  ]) {
    assert.equal(isMinerAddress(no), false, no)
  }
})
