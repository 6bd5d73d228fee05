import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CarBlockIterator } from '@ipld/car/iterator'
import { createUnixfsFixture } from '../src/index.ts'
import { startTestkitCli } from './cli-process.ts'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

test('`autoretrieve-testkit --help` from the repository root (what npx runs) prints the usage and exits 0', () => {
  const res = spawnSync(join(ROOT, 'node_modules', '.bin', 'autoretrieve-testkit'), ['--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000
  })
  assert.equal(res.error, undefined, 'the root package links the bin (it depends on @autoretrieve/testkit)')
  assert.equal(res.status, 0, res.stderr)
  assert.match(res.stdout, /^Usage: autoretrieve-testkit /)
  for (const command of ['provider', 'indexer', 'estuary', 'lotus'])
    assert.match(res.stdout, new RegExp(`\\n  ${command} `))
})

test('`autoretrieve-testkit provider` prints where it listens and serves the CAR as a trustless gateway', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'testkit-cli-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const fixture = await createUnixfsFixture({ size: 200_000, chunkSize: 50_000, seed: 61 })
  const car = join(dir, 'f.car')
  await writeFile(car, fixture.car)
  const info = await startTestkitCli<{ peerId: string; httpUrl: string }>(t, [
    'provider',
    '--car',
    car,
    '--protocols',
    'http'
  ])
  assert.match(info.peerId, /^12D3KooW/)
  const res = await fetch(`${info.httpUrl}/ipfs/${fixture.root}?dag-scope=all`, {
    headers: { Accept: 'application/vnd.ipld.car' }
  })
  assert.equal(res.status, 200)
  const got: string[] = []
  for await (const b of await CarBlockIterator.fromBytes(new Uint8Array(await res.arrayBuffer())))
    got.push(b.cid.toString())
  assert.deepEqual(
    got,
    fixture.blocks.map((b) => b.cid.toString())
  )
})

test('`autoretrieve-testkit lotus` prints its FULLNODE_API_INFO; every address starts with --initial-balance', async (t) => {
  const info = await startTestkitCli<{ apiInfo: string; url: string }>(t, [
    'lotus',
    '--initial-balance',
    '5 FIL',
    '--epoch-ms',
    '50',
    '--settle-delay-epochs',
    '3',
    '--token',
    'tok'
  ])
  assert.match(info.apiInfo, /^tok:\/ip4\/127\.0\.0\.1\/tcp\/\d+\/http$/)
  const res = await fetch(`${info.url}/rpc/v1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tok' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'Filecoin.WalletBalance',
      params: ['f1ick6svk3i23qdgn74hz2yu4wsoryzuaw4h3jk4y']
    })
  })
  assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 1, result: '5000000000000000000' })
})

test('`autoretrieve-testkit lotus` refuses an amount it cannot read, saying which option', () => {
  const res = spawnSync(process.execPath, [CLI, 'lotus', '--initial-balance', 'lots'], {
    encoding: 'utf8',
    timeout: 60_000
  })
  assert.notEqual(res.status, 0)
  assert.match(res.stderr, /--initial-balance/)
})
