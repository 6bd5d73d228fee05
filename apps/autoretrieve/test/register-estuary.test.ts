import assert from 'node:assert/strict'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { type EstuaryStandIn, startEstuary, waitUntil } from '@autoretrieve/testkit'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { parse } from 'yaml'
import { cliEnv, runCli, startDaemon, tempDataDir } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

async function estuaryFor(t: After, advertiseInterval = '400ms'): Promise<EstuaryStandIn> {
  const estuary = await startEstuary({ advertiseInterval })
  t.after(() => estuary.close())
  return estuary
}

/** An ip-api.com stand-in: GET answers `{"status": "success", "query": <ip>}`. */
async function ipLookup(t: After, ip: string): Promise<string> {
  const server = createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ status: 'success', country: 'Nowhere', query: ip }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/json`
}

const GO_CONFIG = `# written for the Go autoretrieve
estuary-url: ""
advertise-token: ""
# keep this comment
heartbeat-interval: 15s
instance-name: edge-1
`

test('register-estuary registers the peer key and public addresses, keeps config.yaml (Go names, comments) at 0600, and the node then beats', async (t) => {
  const estuary = await estuaryFor(t)
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), GO_CONFIG, { mode: 0o644 })
  const env = cliEnv()
  const res = await runCli(
    [
      '--data-dir',
      dataDir,
      '--listen',
      '/ip4/0.0.0.0/tcp/16746',
      '--listen',
      '/ip4/127.0.0.1/tcp/0/ws',
      'register-estuary',
      `${estuary.url}/`,
      estuary.adminToken,
      '--public-ip',
      '203.0.113.5'
    ],
    env
  )
  assert.equal(res.code, 0, res.stderr)
  const out = JSON.parse(res.stdout) as { handle: string; peerId: string; addresses: string[]; reloaded: null }
  assert.deepEqual(out.addresses, ['/ip4/203.0.113.5/tcp/16746'], 'wildcard -> public IP; port 0 left out')
  assert.equal(out.reloaded, null)

  const id = JSON.parse((await runCli(['--data-dir', dataDir, 'id'], env)).stdout) as { peerId: string }
  assert.equal(out.peerId, id.peerId)
  const [reg] = estuary.registrations
  assert.equal(reg.status, 200)
  assert.equal(reg.authorization, `Bearer ${estuary.adminToken}`)
  assert.match(reg.contentType ?? '', /^multipart\/form-data; boundary=/)
  assert.equal(reg.addresses, '/ip4/203.0.113.5/tcp/16746')
  assert.match(reg.pubKey ?? '', /^CAESI/)
  assert.equal(peerIdFromPublicKey(publicKeyFromProtobuf(Buffer.from(reg.pubKey!, 'base64'))).toString(), id.peerId)
  const registered = estuary.autoretrieves.get(out.handle)!
  assert.ok(
    !res.stdout.includes(registered.token) && !res.stderr.includes(registered.token),
    'the token is not printed'
  )

  const path = join(dataDir, 'config.yaml')
  assert.equal((await stat(path)).mode & 0o777, 0o600, 'config.yaml holds a secret: 0600')
  const text = await readFile(path, 'utf8')
  assert.match(text, /^# written for the Go autoretrieve$/m)
  assert.match(text, /^# keep this comment$/m)
  assert.match(text, /^instance-name: edge-1$/m)
  assert.deepEqual(parse(text), {
    'estuary-url': estuary.url,
    'advertise-token': registered.token,
    'heartbeat-interval': '400ms',
    'instance-name': 'edge-1'
  })
  assert.doesNotMatch(text, /advertise-endpoint-(url|token)/, 'the Go names are updated, not duplicated')

  const printed = await runCli(['--data-dir', dataDir, 'print-config'], env)
  assert.equal(printed.code, 0, printed.stderr)
  assert.ok(!printed.stdout.includes(registered.token), 'print-config redacts the token')

  const node = await startDaemon(t, dataDir, env)
  await waitUntil('two heartbeats', () => estuary.heartbeats.filter((h) => h.status === 200).length >= 2)
  assert.ok(estuary.heartbeats.every((h) => h.authorization === `Bearer ${registered.token}`))
  const headers = { Authorization: `Bearer ${node.token}` }
  const status = (await (await fetch(`${node.adminUrl}/api/v1/heartbeat`, { headers })).json()) as Record<
    string,
    unknown
  >
  assert.equal(status.state, 'ok')
  assert.equal(status.handle, out.handle)
  assert.equal(status.advertiseInterval, '400ms')
  const posted = await fetch(`${node.adminUrl}/api/v1/heartbeat`, { method: 'POST', headers })
  assert.equal(posted.status, 200)
  const { code } = await node.stop('SIGTERM')
  assert.equal(code, 0, node.stderr())
  assert.ok(!node.stderr().includes(registered.token), 'the node never logs the token')
})

test('beside a running node, register-estuary looks up the public IP, writes a fresh config and the node starts beating on reload', async (t) => {
  const estuary = await estuaryFor(t, '1m0s')
  const dataDir = await tempDataDir(t)
  const lookup = await ipLookup(t, '198.51.100.9')
  const node = await startDaemon(t, dataDir, cliEnv())
  const headers = { Authorization: `Bearer ${node.token}` }
  const before = (await (await fetch(`${node.adminUrl}/api/v1/heartbeat`, { headers })).json()) as { state: string }
  assert.equal(before.state, 'disabled')

  // The node listens on loopback port 0 (cliEnv); the registration names the default public ports.
  const env = cliEnv({ AUTORETRIEVE_LISTEN: '/ip4/0.0.0.0/tcp/6746,/ip4/0.0.0.0/tcp/6747/ws' })
  const res = await runCli(
    ['--data-dir', dataDir, 'register-estuary', estuary.url, estuary.adminToken, '--ip-lookup-url', lookup],
    env
  )
  assert.equal(res.code, 0, res.stderr)
  const out = JSON.parse(res.stdout) as { handle: string; addresses: string[]; reloaded: boolean }
  assert.deepEqual(out.addresses, ['/ip4/198.51.100.9/tcp/6746', '/ip4/198.51.100.9/tcp/6747/ws'])
  assert.equal(out.reloaded, true)
  await waitUntil('a heartbeat after the reload', () => estuary.heartbeats.some((h) => h.status === 200))
  const after = (await (await fetch(`${node.adminUrl}/api/v1/heartbeat`, { headers })).json()) as Record<
    string,
    unknown
  >
  assert.equal(after.state, 'ok')
  assert.equal(after.handle, out.handle)

  const path = join(dataDir, 'config.yaml')
  const first = await readFile(path, 'utf8')
  assert.match(first, /^# Estuary API base URL/m, 'the default file keeps its comments')
  assert.equal((await stat(path)).mode & 0o777, 0o600)
  assert.equal(first.match(/^advertise-endpoint-url: /gm)?.length, 1)
  assert.equal(parse(first)['advertise-endpoint-url'], estuary.url)
  assert.match(first, /^heartbeat-interval: 1m0s$/m)

  // Registering again rotates the token: the file then holds only the new one.
  const again = await runCli(
    [
      '--data-dir',
      dataDir,
      'register-estuary',
      estuary.url,
      estuary.adminToken,
      '--address',
      '/dns4/edge.example/tcp/443/wss'
    ],
    env
  )
  assert.equal(again.code, 0, again.stderr)
  const second = await readFile(path, 'utf8')
  const [newest] = [...estuary.autoretrieves.values()]
  assert.equal(estuary.autoretrieves.size, 1)
  assert.equal(parse(second)['advertise-endpoint-token'], newest.token)
  assert.equal(second.match(/^advertise-endpoint-token: /gm)?.length, 1)
  assert.deepEqual(newest.addresses, ['/dns4/edge.example/tcp/443/wss'])
})

test('register-estuary: a bad URL is usage (exit 2); unreachable, refused or failing Estuary exit 1; config.yaml is left alone', async (t) => {
  const estuary = await estuaryFor(t)
  const dataDir = await tempDataDir(t)
  const env = cliEnv()
  const run = (...args: string[]) =>
    runCli(['--data-dir', dataDir, 'register-estuary', ...args, '--address', '/ip4/192.0.2.1/tcp/6746'], env)

  for (const bad of ['not a url', 'ftp://estuary.example']) {
    const res = await run(bad, 'admin')
    assert.equal(res.code, 2, res.stderr)
    assert.match(res.stderr, /is not (a|an http\(s\)) URL/)
  }
  const badAddr = await runCli(
    ['--data-dir', dataDir, 'register-estuary', estuary.url, 'admin', '--address', 'nope'],
    env
  )
  assert.equal(badAddr.code, 2)
  assert.match(badAddr.stderr, /--address nope: not a multiaddr/)

  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  const unreachable = await run(`http://127.0.0.1:${port}`, 'admin')
  assert.equal(unreachable.code, 1)
  assert.match(
    unreachable.stderr,
    new RegExp(`cannot reach Estuary at http://127\\.0\\.0\\.1:${port}/admin/autoretrieve/init`)
  )
  assert.match(unreachable.stderr, /ECONNREFUSED/)

  const refused = await run(estuary.url, 'wrong-admin-token')
  assert.equal(refused.code, 1)
  assert.match(
    refused.stderr,
    /refused registration .*: 401 ERR_NOT_AUTHORIZED: admin permission required \(is the Estuary admin token right\?\)/
  )
  assert.ok(!refused.stderr.includes('wrong-admin-token'), 'the admin token is not echoed')

  estuary.setFault('status500')
  const failing = await run(estuary.url, estuary.adminToken)
  assert.equal(failing.code, 1)
  assert.match(failing.stderr, /: 500 ERR_INTERNAL_SERVER: injected failure/)

  for (const res of [unreachable, refused, failing]) assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace')
  const text = await readFile(join(dataDir, 'config.yaml'), 'utf8')
  assert.match(text, /^advertise-endpoint-url: ""$/m)
  assert.match(text, /^advertise-endpoint-token: ""$/m)
})
