import assert from 'node:assert/strict'
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { createBlockCache } from '../src/index.ts'
import { FLATFS_REJECTED_DIR, flatfsFileMultihash } from '../src/legacy-import.ts'

/** Written by go-ds-flatfs itself: test-vectors/go-flatfs/gen (see its main.go). */
const FIXTURE = new URL('../../../test-vectors/go-flatfs/', import.meta.url)
interface FixtureBlock {
  cid: string
  key: string
  size: number
  corrupt?: boolean
}
const blocks = JSON.parse(await readFile(new URL('blocks.json', FIXTURE), 'utf8')) as FixtureBlock[]

/** A copy of the Go node's blockstore directory, as the cache's path. */
async function goBlockstore(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'ar-flatfs-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'blockstore')
  await cp(new URL('blockstore', FIXTURE), path, { recursive: true })
  return path
}

/** Every `*.data` file under the flatfs shard directories (not the set-aside ones). */
async function dataFiles(path: string): Promise<string[]> {
  const found: string[] = []
  for (const e of await readdir(path, { withFileTypes: true })) {
    if (!e.isDirectory() || !/^[A-Z2-7_]{3}$/.test(e.name)) continue
    for (const name of await readdir(join(path, e.name))) if (name.endsWith('.data')) found.push(name)
  }
  return found
}

/** The bytes the generator wrote for block i (main.go's loop). */
function content(i: number): Uint8Array {
  const data = new Uint8Array(100 + i * 3000)
  for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j * 7) % 251
  return data
}

test('a flatfs file name is the go-ipfs-ds-help key of a multihash; other names are not keys', () => {
  const first = blocks[0]!
  const name = `${first.key.slice(1)}.data`
  assert.deepEqual(flatfsFileMultihash(name), CID.parse(first.cid).multihash.bytes)
  assert.equal(flatfsFileMultihash(first.key.slice(1)), undefined, 'no .data suffix')
  assert.equal(flatfsFileMultihash('.temp123456.data'), undefined)
  assert.equal(flatfsFileMultihash(`${first.key.slice(1).toLowerCase()}.data`), undefined, 'lower case')
})

test("the Go node's flatfs cache is moved into the block log: verified, served, files removed, corrupt one set aside", async (t) => {
  const path = await goBlockstore(t)
  assert.equal((await dataFiles(path)).length, blocks.length, 'the fixture as Go wrote it')
  const warnings: string[] = []
  const logger = {
    debug() {},
    info() {},
    warn: (_: unknown, msg: string) => void warnings.push(msg),
    error() {}
  }
  const cache = createBlockCache({ logger: logger as never }, { path })
  await cache.start()
  t.after(() => cache.stop())

  const good = blocks.filter((b) => !b.corrupt)
  const corrupt = blocks.filter((b) => b.corrupt)
  assert.equal(good.length, 6)
  for (const [i, b] of good.entries()) {
    const cid = CID.parse(b.cid)
    assert.deepEqual(await cache.get(cid), content(i), `${b.cid} served`)
    // Served by multihash: the same block under another codec is the same entry.
    assert.equal(await cache.has(CID.createV1(0x70, cid.multihash)), true)
  }
  for (const b of corrupt) assert.equal(await cache.has(CID.parse(b.cid)), false, 'a corrupt block is not imported')
  assert.deepEqual(await dataFiles(path), [], 'every flatfs block file is gone')
  await assert.rejects(stat(join(path, 'SHARDING')), 'SHARDING removed once done')
  assert.deepEqual(await readdir(join(path, FLATFS_REJECTED_DIR)), [`${corrupt[0]!.key.slice(1)}.data`])
  assert.ok(
    warnings.some((w) => w.includes('does not hash to its key')),
    `the corrupt file is reported: ${warnings}`
  )
})

test('a migration cut short resumes: blocks already in the log are not appended twice, the rest move', async (t) => {
  const path = await goBlockstore(t)
  // First start: moves everything. Then put two files back, as if a crash had come after their
  // blocks were appended and before their files were removed, and restore SHARDING.
  const first = createBlockCache({}, { path })
  await first.start()
  const disk = first.stats().diskBytes
  await first.stop()
  const leftovers = blocks.slice(0, 2)
  for (const [i, b] of leftovers.entries()) {
    const name = b.key.slice(1)
    const shard = join(path, name.slice(-4, -1))
    await cp(new URL(`blockstore/${name.slice(-4, -1)}/${name}.data`, FIXTURE), join(shard, `${name}.data`))
    assert.ok(content(i).byteLength > 0)
  }
  await writeFile(join(path, 'SHARDING'), '/repo/flatfs/shard/v1/next-to-last/3\n')
  const second = createBlockCache({}, { path })
  await second.start()
  t.after(() => second.stop())
  assert.equal(second.stats().diskBytes, disk, 'nothing appended again')
  assert.deepEqual(await dataFiles(path), [])
  for (const [i, b] of blocks.filter((x) => !x.corrupt).entries())
    assert.deepEqual(await second.get(CID.parse(b.cid)), content(i))
})
