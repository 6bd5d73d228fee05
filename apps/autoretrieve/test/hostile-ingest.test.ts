import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { encodeFrame, uvarintBytes } from '@autoretrieve/frames'
import { createStore } from '@autoretrieve/store'
import {
  createUnixfsFixture,
  type ProviderFault,
  type ProviderStandIn,
  startIndexer,
  startProvider
} from '@autoretrieve/testkit'
import * as dagCbor from '@ipld/dag-cbor'
import { catFile, cliEnv, heliaClient, runCli, scratchDatabase, startDaemon, tempDataDir, until } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

async function provider(t: After, car: Uint8Array, fault: ProviderFault = 'none') {
  const p = await startProvider({ cars: [car], protocols: ['http'], fault })
  t.after(() => p.close())
  return p
}

const record = (p: ProviderStandIn) => ({ peerId: p.peerId, addrs: [p.httpMultiaddr!], protocols: ['http' as const] })

/** The node's record of the retrieval of `root`, once it has finished. */
async function finishedRetrieval(databaseUrl: string, root: string) {
  const store = await createStore({ databaseUrl })
  try {
    const why = await until(
      `the retrieval of ${root} recorded as finished`,
      () => store.retrievals.explain(root),
      (w) => w.retrievals[0] !== undefined && w.retrievals[0].status !== 'running',
      { timeoutMs: 10_000, intervalMs: 100 }
    )
    return why.retrievals[0]
  } finally {
    await store.close()
  }
}

test('a Helia client gets the file although the first provider claims a 1 GiB block and the second hangs; records name both', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return // skipped: no PostgreSQL, and AUTORETRIEVE_TEST_ALLOW_SKIP=1
  const fixture = await createUnixfsFixture({ size: 1024 * 1024, chunkSize: 256 * 1024, seed: 1310 })
  const huge = await provider(t, fixture.car, 'huge-block')
  const hanging = await provider(t, fixture.car, 'hang')
  const good = await provider(t, fixture.car)
  const indexer = await startIndexer({ providers: [record(huge), record(hanging), record(good)] })
  t.after(() => indexer.close())
  const dataDir = await tempDataDir(t)
  const node = await startDaemon(
    t,
    dataDir,
    cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url, AUTORETRIEVE_DATABASE_URL: databaseUrl })
  )
  // Defaults: retrieval-timeout 60 s; the hanging provider must cost the stagger, not that.
  assert.deepEqual(
    await catFile(await heliaClient(t, node.multiaddrs), fixture.root, 20_000),
    Buffer.from(fixture.bytes)
  )
  const retrieval = await finishedRetrieval(databaseUrl, fixture.root.toString())
  assert.equal(retrieval.status, 'success')
  const byProvider = Object.fromEntries(retrieval.attempts.map((a) => [a.provider, [a.outcome, a.errorClass]]))
  assert.deepEqual(byProvider[huge.peerId], ['failed', 'block_too_large'])
  assert.deepEqual(byProvider[good.peerId], ['success', null])
  // Cut off by the winner (stagger) or by its first-byte timeout, never waited out.
  assert.ok(
    ['cancelled', 'failed'].includes(byProvider[hanging.peerId]?.[0] as string),
    JSON.stringify(byProvider[hanging.peerId])
  )
  assert.ok(huge.stats.junkBytesSent < 64 * 1024 * 1024, `${huge.stats.junkBytesSent} junk bytes written`)
})

test('`fetch` from a provider that sends junk after a complete DAG succeeds and writes the DAG', async (t) => {
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 1311 })
  const p = await provider(t, fixture.car, 'trailing-junk')
  const dataDir = await tempDataDir(t)
  const out = join(dirname(dataDir), 'junk.car')
  const res = await runCli(
    ['--data-dir', dataDir, 'fetch', fixture.root.toString(), '-o', out, '--provider', p.httpUrl],
    cliEnv(),
    60_000
  )
  assert.equal(res.code, 0, res.stderr)
  const summary = JSON.parse(res.stderr.trim().split('\n').at(-1) ?? '')
  assert.equal(summary.blocks, fixture.blocks.length)
})

test('`cache import` and POST /api/v1/cache/import refuse a CAR claiming a 1 GiB block or a 100 MiB header, saying which', async (t) => {
  const fixture = await createUnixfsFixture({ size: 100_000, chunkSize: 100_000, seed: 1312 })
  const header = encodeFrame(dagCbor.encode({ version: 1, roots: [fixture.root] })).subarray()
  const junk = new Uint8Array(256 * 1024).fill(7)
  const hugeBlock = Buffer.concat([header, uvarintBytes(1024 ** 3), fixture.root.bytes, junk])
  const hugeHeader = Buffer.concat([uvarintBytes(100 * 1024 ** 2), junk])
  const dataDir = await tempDataDir(t)
  const cases: Array<[string, Buffer, RegExp]> = [
    ['block.car', hugeBlock, /block 1 claims 1073741824 bytes, over the \d+-byte block limit/],
    ['header.car', hugeHeader, /header of 104857600 bytes is over the 65536-byte CAR header limit/]
  ]
  // Straight into the cache (no node running on the data dir).
  for (const [name, bytes, message] of cases) {
    const file = join(dirname(dataDir), name)
    await writeFile(file, bytes)
    const res = await runCli(['--data-dir', dataDir, 'cache', 'import', file], cliEnv())
    assert.notEqual(res.code, 0, name)
    assert.match(res.stderr, message, name)
  }
  // Through a running node's admin API: a 400 with the same words.
  const node = await startDaemon(t, await tempDataDir(t), cliEnv())
  for (const [name, bytes, message] of cases) {
    const res = await fetch(`${node.adminUrl}/api/v1/cache/import`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/vnd.ipld.car' },
      body: new Uint8Array(bytes)
    })
    const body = (await res.json()) as { error?: { code: string; message: string } }
    assert.equal(res.status, 400, `${name}: ${JSON.stringify(body)}`)
    assert.match(body.error?.message ?? '', message, name)
  }
})
