import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createHeliaPeer, type HeliaPeer } from '@autoretrieve/testkit'
import { multiaddr } from '@multiformats/multiaddr'
import { base32upper } from 'multiformats/bases/base32'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { adminApi, CLI, cliEnv, startDaemon, tempDataDir } from './helpers.ts'

/** Written by go-ds-flatfs itself: test-vectors/go-flatfs/gen (see its main.go). */
const FIXTURE = new URL('../../../test-vectors/go-flatfs/', import.meta.url)
const blocks = JSON.parse(await readFile(new URL('blocks.json', FIXTURE), 'utf8')) as {
  cid: string
  key: string
  corrupt?: boolean
}[]
const SHARDING = '/repo/flatfs/shard/v1/next-to-last/3\n'

/** One block from the node over Bitswap (Helia's blockstore asks the network for what it lacks). */
async function fetchBlock(helia: HeliaPeer, cid: CID): Promise<Uint8Array> {
  const out = helia.blockstore.get(cid, { signal: AbortSignal.timeout(20_000) }) as unknown
  if (out !== null && typeof out === 'object' && Symbol.asyncIterator in out) {
    const parts: Uint8Array[] = []
    for await (const part of out as AsyncIterable<Uint8Array>) parts.push(part)
    return Buffer.concat(parts)
  }
  return (await out) as Uint8Array
}

async function client(t: { after(fn: () => Promise<unknown>): void }, addrs: string[]) {
  const helia = await createHeliaPeer()
  t.after(() => helia.stop())
  await helia.libp2p.dial(multiaddr(addrs.find((a) => a.includes('/tcp/') && !a.includes('/ws'))!))
  return helia
}

/** The `.data` files left in a flatfs directory's shards. */
async function dataFiles(dir: string): Promise<number> {
  let n = 0
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && /^[A-Z2-7_]{3}$/.test(e.name))
      n += (await readdir(join(dir, e.name))).filter((f) => f.endsWith('.data')).length
  }
  return n
}

test('a data dir the Go node used serves its cached blocks to Helia, and the flatfs files are gone', async (t) => {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await cp(new URL('blockstore', FIXTURE), join(dataDir, 'blockstore'), { recursive: true })
  // Retrieval off: whatever Helia gets came from the migrated cache.
  const node = await startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' }))
  const helia = await client(t, node.multiaddrs)
  // Helia checks what it gets and knows sha2-256 only (the sha2-512 block counts in the stats below).
  const sha256Blocks = blocks.filter((x) => !x.corrupt && CID.parse(x.cid).multihash.code === 0x12)
  assert.equal(sha256Blocks.length, 5)
  for (const b of sha256Blocks) {
    const cid = CID.parse(b.cid)
    const bytes = await fetchBlock(helia, cid)
    assert.deepEqual(
      createHash('sha256').update(bytes).digest(),
      Buffer.from(cid.multihash.digest),
      `${b.cid} over Bitswap`
    )
  }
  const stats = await adminApi<{ cache: { blocks: number } }>(node, 'GET', '/api/v1/stats')
  assert.equal(stats.body.cache.blocks, blocks.length - 1, 'the corrupt block was not imported')
  assert.equal(await dataFiles(join(dataDir, 'blockstore')), 0)
  await assert.rejects(stat(join(dataDir, 'blockstore', 'SHARDING')))
  assert.deepEqual(await readdir(join(dataDir, 'blockstore', 'flatfs-rejected')), [
    `${blocks.find((b) => b.corrupt)!.key.slice(1)}.data`
  ])
})

test('a migration killed with SIGKILL part-way finishes on the next start', async (t) => {
  const dataDir = await tempDataDir(t)
  const dir = join(dataDir, 'blockstore')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'SHARDING'), SHARDING)
  // Laid out as go-ds-flatfs lays it (the fixture above proves the layout against the library).
  const total = 5000
  const cids: CID[] = []
  for (let i = 0; i < total; i++) {
    const bytes = Buffer.alloc(512, i % 251)
    bytes.writeUInt32BE(i, 0)
    const mh = Uint8Array.of(0x12, 0x20, ...createHash('sha256').update(bytes).digest())
    const key = base32upper.encode(mh).slice(1)
    await mkdir(join(dir, key.slice(-4, -1)), { recursive: true })
    await writeFile(join(dir, key.slice(-4, -1), `${key}.data`), bytes)
    cids.push(CID.createV1(0x55, Digest.decode(mh)))
  }

  // The first start: killed as soon as it reports progress (1000 blocks in).
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'run'], {
    env: cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true', LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'ignore', 'pipe']
  })
  t.after(() => child.kill('SIGKILL'))
  let stderr = ''
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no migration progress in 120 s:\n${stderr}`)), 120_000)
    child.stderr.on('data', (d) => {
      stderr += d
      if (stderr.includes('moving the flatfs block cache: progress')) {
        child.kill('SIGKILL')
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', () => reject(new Error(`the node exited before it reported progress:\n${stderr}`)))
  })
  await exited
  const left = await dataFiles(dir)
  assert.ok(left > 0 && left < total, `killed part-way: ${left} of ${total} files left`)

  const node = await startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' }))
  const stats = await adminApi<{ cache: { blocks: number } }>(node, 'GET', '/api/v1/stats')
  assert.equal(stats.body.cache.blocks, total, 'every block in the log once')
  assert.equal(await dataFiles(dir), 0)
  await assert.rejects(stat(join(dir, 'SHARDING')))
  const helia = await client(t, node.multiaddrs)
  // A block that moved before the kill and one that moved after it.
  for (const cid of [cids[0]!, cids[total - 1]!]) {
    const bytes = await fetchBlock(helia, cid)
    assert.deepEqual(createHash('sha256').update(bytes).digest(), Buffer.from(cid.multihash.digest))
  }
})
