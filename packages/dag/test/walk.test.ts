import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { multihashKey } from '@autoretrieve/interface'
import { testVectorsDir } from '@autoretrieve/testkit'
import { CarBlockIterator } from '@ipld/car/iterator'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { blockLinks, checkDag, walkDag } from '../src/index.ts'

const VECTORS = new URL(`file://${join(testVectorsDir(), 'car')}/`)

async function loadCar(name: string) {
  const iter = await CarBlockIterator.fromBytes(await readFile(new URL(name, VECTORS)))
  const roots = await iter.getRoots()
  const order: string[] = []
  const blocks = new Map<string, Uint8Array>()
  for await (const { cid, bytes } of iter) {
    order.push(cid.toString())
    blocks.set(multihashKey(cid), bytes)
  }
  const get = async (cid: CID) => blocks.get(multihashKey(cid))
  return { root: roots[0], order, get }
}

for (const name of [
  'subdir-with-mixed-block-files.car',
  'single-layer-hamt-with-multi-block-files.car',
  'dag-cbor-traversal.car',
  'dir-with-duplicate-files.car'
]) {
  test(`walks ${name} in the same DFS order as the trustless CAR carries it`, async () => {
    const { root, order, get } = await loadCar(name)
    const walked: string[] = []
    for await (const step of walkDag(root, get)) walked.push(step.cid.toString())
    assert.deepEqual(walked, order)
  })
}

test('reports the first missing block of an incomplete DAG', async () => {
  const { root, get } = await loadCar('file-3k-and-3-blocks-missing-block.car')
  const check = await checkDag(root, get)
  assert.equal(check.complete, false)
  assert.equal(check.firstMissing, 'QmSNLTo6Wv9dfroVaw7MFYjLqf9ho7PKrgsjdzYDtv8h1W')
  assert.equal(check.missing, 1)
  assert.equal(check.blocks, 3)
})

test('a block that does not decode is a BlockDecodeError naming it', async () => {
  const bad = CID.parse('bafybeihchr7vmgjaasntayyatmp5sv6xza57iy2h4xj7g46bpjij6yhrmy')
  const walk = walkDag(bad, async () => new Uint8Array([0xff, 0xff, 0xff]))
  await walk.next()
  await assert.rejects(walk.next(), { name: 'BlockDecodeError' })
})

test('dag-cbor links come in canonical key order, "a" before "10", as encoded', async () => {
  const leaf = async (text: string) => CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(text)))
  const [first, second] = [await leaf('first'), await leaf('second')]
  // A JavaScript object lists the integer-like key "10" first; the encoding (and Go) has "a" first.
  const bytes = dagCbor.encode({ 10: second, a: first })
  const root = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  assert.deepEqual(blockLinks(root, bytes).map(String), [first, second].map(String))
})
