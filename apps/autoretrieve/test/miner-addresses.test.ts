import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  createUnixfsFixture,
  type ProviderFault,
  type ProviderStandIn,
  startIndexer,
  startLotus,
  startProvider
} from '@autoretrieve/testkit'
import type { CID } from 'multiformats/cid'
import {
  adminApi,
  catFile,
  cliEnv,
  type DaemonHandle,
  heliaClient,
  startDaemon,
  tempDataDir,
  until
} from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

interface Retrieval {
  status: string
  reason: string | null
  candidates: Array<{ provider: string; verdict: string; reason: string | null }>
  attempts: Array<{ provider: string; outcome: string; errorClass: string | null }>
}

async function httpProvider(t: After, car: Uint8Array, fault: ProviderFault = 'none') {
  const p = await startProvider({ cars: [car], protocols: ['http'], fault })
  t.after(() => p.close())
  return p
}

const record = (p: ProviderStandIn) => ({ peerId: p.peerId, addrs: [p.httpMultiaddr!], protocols: ['http' as const] })

/** A node whose config.yaml is `yaml`, looking up candidates at `indexerUrl` and miners at `apiInfo`. */
async function nodeWith(t: After, yaml: string, indexerUrl: string, apiInfo: string): Promise<DaemonHandle> {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), yaml)
  return startDaemon(
    t,
    dataDir,
    cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexerUrl, FULLNODE_API_INFO: apiInfo, LOG_LEVEL: 'info' })
  )
}

/** Asks the node for `root` once (a want that fails is given up after a few seconds) and returns the retrieval it ran. */
async function retrievalOf(t: After, node: DaemonHandle, root: CID, nth = 1): Promise<Retrieval> {
  await catFile(await heliaClient(t, node.multiaddrs), root, 4_000).catch(() => {})
  const found = await until(
    `retrieval ${nth} of ${root} recorded as finished`,
    async () =>
      (await adminApi<{ retrievals: Retrieval[] }>(node, 'GET', `/api/v1/cids/${root}/explain`)).body.retrievals,
    (rs) => rs.filter((r) => r.status !== 'running').length >= nth
  )
  return found.filter((r) => r.status !== 'running')[0]
}

async function metric(node: DaemonHandle, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.split(' ')[1])
}

test('a blacklisted f0 resolved through Lotus is never asked, though IPNI names it by peer ID first', async (t) => {
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 71 })
  const banned = await httpProvider(t, fixture.car)
  const good = await httpProvider(t, fixture.car)
  const indexer = await startIndexer({ providers: [record(banned), record(good)] })
  t.after(() => indexer.close())
  const lotus = await startLotus({
    miners: { f01234: { peerId: banned.peerId, multiaddrs: [] } },
    token: 'lotus-jwt'
  })
  t.after(() => lotus.close())
  // The Go form of FULLNODE_API_INFO: TOKEN:/ip4/…/tcp/…/http.
  assert.match(lotus.apiInfo, /^lotus-jwt:\/ip4\/127\.0\.0\.1\/tcp\/\d+\/http$/)
  const node = await nodeWith(t, 'miner-blacklist:\n  - f01234\n', indexer.url, lotus.apiInfo)

  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.equal(banned.stats.httpRequests, 0, 'the blacklisted provider was asked')
  assert.equal(good.stats.httpRequests, 1)
  const policy = await adminApi<{ minerBlacklist: Array<{ provider: string; resolution: unknown }> }>(
    node,
    'GET',
    '/api/v1/policy'
  )
  assert.equal(policy.body.minerBlacklist.length, 1)
  assert.equal(policy.body.minerBlacklist[0].provider, 'f01234')
  assert.deepEqual(
    { ...(policy.body.minerBlacklist[0].resolution as object), resolvedAt: undefined },
    { state: 'resolved', peerId: banned.peerId, resolvedAt: undefined }
  )
  // Records reach the database in batches, off the request path: wait for this one.
  const [retrieval] = await until(
    'the retrieval recorded',
    async () =>
      (await adminApi<{ retrievals: Retrieval[] }>(node, 'GET', `/api/v1/cids/${fixture.root}/explain`)).body
        .retrievals,
    (rs) => rs.some((r) => r.status === 'success')
  )
  assert.deepEqual(
    retrieval.candidates.map((c) => [c.provider, c.verdict, c.reason]),
    [
      [banned.peerId, 'dropped', 'denied_provider'],
      [good.peerId, 'accepted', null]
    ]
  )
  assert.ok(lotus.calls >= 1)
})

test('an f0-only whitelist admits exactly that provider; an f0 miner config applies to it', async (t) => {
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 72 })
  const other = await httpProvider(t, fixture.car)
  // Answers only after 3 s: its own miner config's 500 ms timeout gives up on it, the default 1 m would not.
  const slow = await httpProvider(t, fixture.car, 'delay:3000')
  const listed = await httpProvider(t, fixture.car)
  const indexer = await startIndexer({ providers: [record(other), record(slow), record(listed)] })
  t.after(() => indexer.close())
  const lotus = await startLotus({
    miners: {
      f05678: { peerId: listed.peerId, multiaddrs: [] },
      f09999: { peerId: slow.peerId, multiaddrs: [] }
    }
  })
  t.after(() => lotus.close())
  // A plain URL this time, the other FULLNODE_API_INFO form.
  const node = await nodeWith(
    t,
    ['miner-whitelist: [f09999, f05678]', 'miner-configs:', '  f09999:', '    retrieval-timeout: 500ms', ''].join('\n'),
    indexer.url,
    `${lotus.url}/rpc/v1`
  )
  const started = Date.now()
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.ok(Date.now() - started < 20_000)
  assert.equal(other.stats.httpRequests, 0, 'a provider off the whitelist was asked')
  assert.equal(listed.stats.httpRequests, 1)
  const retrieval = await retrievalOf(t, node, fixture.root)
  assert.deepEqual(
    retrieval.candidates.map((c) => [c.provider, c.verdict, c.reason]),
    [
      [other.peerId, 'dropped', 'not_allowlisted'],
      [slow.peerId, 'accepted', null],
      [listed.peerId, 'accepted', null]
    ]
  )
  assert.deepEqual(
    retrieval.attempts.map((a) => [a.provider, a.outcome, a.errorClass]),
    [
      [slow.peerId, 'failed', 'timeout'],
      [listed.peerId, 'success', null]
    ]
  )
  const policy = await adminApi<{ minerConfigs: Record<string, { resolution?: { peerId?: string } }> }>(
    node,
    'GET',
    '/api/v1/policy'
  )
  assert.equal(policy.body.minerConfigs.f09999.resolution?.peerId, slow.peerId)
})

/** A loopback port with nothing listening on it (yet). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

test('Lotus down at start: a warning and a metric, the whitelist fails closed, the blacklist fails safe, and both resolve once Lotus is up', async (t) => {
  const fixture = await createUnixfsFixture({ size: 400_000, chunkSize: 200_000, seed: 73 })
  const banned = await httpProvider(t, fixture.car)
  const good = await httpProvider(t, fixture.car)
  const indexer = await startIndexer({ providers: [record(banned), record(good)] })
  t.after(() => indexer.close())
  const port = await closedPort()
  const apiInfo = `/ip4/127.0.0.1/tcp/${port}/http`
  const node = await nodeWith(t, 'miner-blacklist: [f01234]\nminer-whitelist: [f05678]\n', indexer.url, apiInfo)

  assert.match(node.stderr(), /miner address unresolved: Lotus lookup failed/)
  assert.equal(node.child.exitCode, null, 'the node runs')
  assert.ok(((await metric(node, 'autoretrieve_lotus_miner_lookups_total{outcome="failed"}')) ?? 0) >= 2)
  assert.equal(await metric(node, 'autoretrieve_miner_addresses_unresolved'), 2)
  const policy = await adminApi<{ minerBlacklist: Array<{ resolution: { state: string; error?: string } }> }>(
    node,
    'GET',
    '/api/v1/policy'
  )
  assert.equal(policy.body.minerBlacklist[0].resolution.state, 'unresolved')
  assert.match(policy.body.minerBlacklist[0].resolution.error ?? '', /unreachable/)

  // The whitelist names only f05678, which has no peer ID yet: nobody is let in.
  const first = await retrievalOf(t, node, fixture.root)
  assert.deepEqual(
    first.candidates.map((c) => c.reason),
    ['not_allowlisted', 'not_allowlisted']
  )
  // Without the whitelist, f01234 still has no peer ID: no provider known only by peer ID is asked.
  const removed = await adminApi(node, 'DELETE', '/api/v1/whitelist/miners/f05678')
  assert.equal(removed.status, 200, JSON.stringify(removed.body))
  const second = await retrievalOf(t, node, fixture.root, 2)
  assert.deepEqual(
    second.candidates.map((c) => c.reason),
    ['deny_unresolved', 'deny_unresolved']
  )
  const explained = await adminApi<{ unresolvedDenials: string[] }>(node, 'GET', `/api/v1/cids/${fixture.root}/explain`)
  assert.deepEqual(explained.body.unresolvedDenials, ['f01234'])
  assert.equal(banned.stats.httpRequests + good.stats.httpRequests, 0)

  // Lotus comes up: the retry in the background resolves f01234 and retrievals go on without it.
  const lotus = await startLotus({ port, miners: { f01234: { peerId: banned.peerId, multiaddrs: [] } } })
  t.after(() => lotus.close())
  await until(
    'f01234 resolved',
    async () => metric(node, 'autoretrieve_miner_addresses_unresolved'),
    (n) => n === 0,
    { timeoutMs: 60_000, intervalMs: 200 }
  )
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), fixture.root), Buffer.from(fixture.bytes))
  assert.equal(banned.stats.httpRequests, 0)
  assert.equal(good.stats.httpRequests, 1)
})
