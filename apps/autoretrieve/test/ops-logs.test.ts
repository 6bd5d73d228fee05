import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createUnixfsFixture, startIndexer, startProvider } from '@autoretrieve/testkit'
import { CID } from 'multiformats/cid'
import { catFile, cliEnv, heliaClient, startDaemon, tempDataDir, until } from './helpers.ts'

/** The node's JSON log lines (stderr, one object a line) with message `msg`. */
function lines(stderr: string, msg: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => o.msg === msg)
}

test('log-retrieval-stats logs a line per finished retrieval; log-resource-manager a resource line every 10 s', async (t) => {
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 81 })
  const p = await startProvider({ cars: [fixture.car], protocols: ['http'] })
  t.after(() => p.close())
  const indexer = await startIndexer({
    providers: [{ peerId: p.peerId, addrs: [p.httpMultiaddr!], protocols: ['http'] }]
  })
  t.after(() => indexer.close())
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), 'log-resource-manager: true\nlog-retrieval-stats: true\n')
  const node = await startDaemon(
    t,
    dataDir,
    cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url, LOG_LEVEL: 'info' })
  )
  const helia = await heliaClient(t, node.multiaddrs)
  assert.deepEqual(await catFile(helia, fixture.root), Buffer.from(fixture.bytes))
  const [served] = await until(
    'a retrieval-finished line',
    () => lines(node.stderr(), 'retrieval finished'),
    (found) => found.length >= 1
  )
  assert.equal(served.cid, fixture.root.toString())
  assert.equal(served.outcome, 'success')
  assert.equal(served.provider, p.peerId)
  assert.equal(served.protocol, 'http')
  assert.equal(
    served.bytes,
    fixture.blocks.reduce((n, b) => n + b.bytes.byteLength, 0)
  )
  assert.equal(typeof served.durationMs, 'number')

  // A CID the provider lacks (the indexer stand-in names it for every CID): failed, and why.
  const missing = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
  await catFile(helia, missing, 3_000).catch(() => {})
  const failed = await until(
    'a failed retrieval line',
    () => lines(node.stderr(), 'retrieval finished').filter((l) => l.cid === missing.toString()),
    (found) => found.length >= 1
  )
  assert.equal(failed[0].outcome, 'failed')
  assert.equal(failed[0].reason, 'retrieval_failed')
  assert.equal(failed[0].provider, p.peerId)
  assert.equal(failed[0].bytes, 0)

  // The resource line: at start and every 10 s after.
  const resources = await until(
    'two resource lines',
    () => lines(node.stderr(), 'resource usage'),
    (found) => found.length >= 2,
    { timeoutMs: 30_000, intervalMs: 250 }
  )
  for (const key of ['memoryBytes', 'connsInbound', 'connsOutbound', 'streamsInbound', 'streamsOutbound', 'fds'])
    assert.equal(typeof resources[0][key], 'number', key)
  assert.ok((resources.at(-1)?.connsInbound as number) >= 1, 'the Helia client is an inbound connection')
  const gap = (resources[1].time as number) - (resources[0].time as number)
  assert.ok(gap >= 9_000 && gap <= 15_000, `resource lines ${gap} ms apart`)
})
