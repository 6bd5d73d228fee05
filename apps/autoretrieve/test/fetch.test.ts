import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { createUnixfsFixture, startIndexer, startProvider } from '@autoretrieve/testkit'
import { CarBlockIterator } from '@ipld/car/iterator'
import { cliEnv, runCli, tempDataDir } from './helpers.ts'

async function carCids(path: string) {
  const iter = await CarBlockIterator.fromBytes(await readFile(path))
  const out: string[] = []
  for await (const b of iter) out.push(b.cid.toString())
  return { roots: (await iter.getRoots()).map(String), cids: out }
}

test('`fetch` retrieves through the engine from a given HTTP, Bitswap or Graphsync provider, or via the indexer, and writes a CAR', async (t) => {
  const fixture = await createUnixfsFixture({ size: 1_500_000, chunkSize: 250_000, seed: 71 })
  const provider = await startProvider({ cars: [fixture.car], protocols: ['http', 'bitswap', 'graphsync'] })
  t.after(() => provider.close())
  const indexer = await startIndexer({
    providers: [{ peerId: provider.peerId, addrs: [provider.httpMultiaddr!], protocols: ['http'] }]
  })
  t.after(() => indexer.close())
  const expected = { roots: [fixture.root.toString()], cids: fixture.blocks.map((b) => b.cid.toString()) }

  const ways: Array<[string, string[], Record<string, string>]> = [
    ['http', ['--provider', provider.httpUrl], {}],
    ['bitswap', ['--provider', provider.multiaddrs[0]], {}],
    ['graphsync', ['--provider', provider.multiaddrs[0], '--protocol', 'graphsync'], {}],
    ['indexer', [], { AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url }]
  ]
  for (const [name, args, env] of ways) {
    const dataDir = await tempDataDir(t)
    const out = join(dirname(dataDir), `${name}.car`)
    const res = await runCli(
      ['--data-dir', dataDir, 'fetch', fixture.root.toString(), '-o', out, ...args],
      cliEnv(env),
      60_000
    )
    assert.equal(res.code, 0, `${name}: ${res.stderr}`)
    assert.deepEqual(await carCids(out), expected, name)
    const summary = JSON.parse(res.stderr.trim().split('\n').at(-1) ?? '')
    assert.equal(summary.protocol, name === 'indexer' ? 'http' : name)
    assert.equal(summary.blocks, fixture.blocks.length)
  }
  assert.ok(provider.stats.graphsyncAccepted >= 1, 'the graphsync fetch took a deal')
  const bad = await runCli(['--data-dir', await tempDataDir(t), 'fetch', 'not-a-cid', '-o', '/dev/null'], cliEnv())
  assert.equal(bad.code, 2)
  const badProtocol = await runCli(
    ['--data-dir', await tempDataDir(t), 'fetch', fixture.root.toString(), '--protocol', 'ftp', '-o', '/dev/null'],
    cliEnv()
  )
  assert.equal(badProtocol.code, 2)
  assert.match(badProtocol.stderr, /--protocol ftp/)
})
