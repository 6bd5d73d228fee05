import assert from 'node:assert/strict'
import { test } from 'node:test'
import { multihashKey } from '@autoretrieve/interface'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  EXPLORE_ALL_RECURSIVELY,
  MATCH_ROOT,
  parseSelector,
  pathSelector,
  traverse,
  UnsupportedSelectorError
} from '../src/index.ts'
import { readCar, vectorsDir } from './helpers.ts'

const dir = vectorsDir()

async function walk(store: { get(c: CID): Promise<Uint8Array | undefined> }, root: CID, selector: unknown) {
  const loads: string[] = []
  const result = await traverse(root, parseSelector(selector), async (cid) => {
    loads.push(cid.toString())
    return store.get(cid)
  })
  return { loads, ...result }
}

test('explore-all over a UnixFS directory loads every link in DFS order, duplicates included', async () => {
  const car = await readCar(dir, 'dir-with-duplicate-files.car')
  const { loads, missing, links } = await walk(car, car.roots[0], EXPLORE_ALL_RECURSIVELY)
  assert.equal(missing.length, 0)
  // The CAR is a DFS without duplicates; the walk is the same order with the shared file twice.
  const unique = [...new Set(loads)]
  assert.deepEqual(unique, car.order.map(String))
  const shared = 'bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm'
  assert.equal(loads.filter((c) => c === shared).length, 2, 'the duplicated file is loaded twice')
  assert.equal(links, car.order.length + 1)
})

test('a missing block is reported and its branch skipped; the walk goes on', async () => {
  const car = await readCar(dir, 'file-3k-and-3-blocks-missing-block.car')
  const { loads, missing } = await walk(car, car.roots[0], EXPLORE_ALL_RECURSIVELY)
  assert.deepEqual(missing.map(String), ['QmSNLTo6Wv9dfroVaw7MFYjLqf9ho7PKrgsjdzYDtv8h1W'])
  assert.equal(loads.length, 4, 'root and three leaves were reached')
})

test('dag-cbor maps and lists are explored in encoded order; a HAMT directory is walked whole', async () => {
  const cbor = await readCar(dir, 'dag-cbor-traversal.car')
  const walked = await walk(cbor, cbor.roots[0], EXPLORE_ALL_RECURSIVELY)
  assert.deepEqual([...new Set(walked.loads)], cbor.order.map(String))
  const hamt = await readCar(dir, 'single-layer-hamt-with-multi-block-files.car')
  const all = await walk(hamt, hamt.roots[0], EXPLORE_ALL_RECURSIVELY)
  assert.equal(new Set(all.loads).size, 243)
  assert.equal(all.missing.length, 0)
})

test('the matcher loads only the root; a depth limit stops the walk where go-ipld-prime does', async () => {
  const leaf = new TextEncoder().encode('leaf')
  const leafCid = CID.createV1(raw.code, await sha256.digest(leaf))
  const mid = dagCbor.encode({ child: leafCid })
  const midCid = CID.createV1(dagCbor.code, await sha256.digest(mid))
  const top = dagCbor.encode({ a: midCid })
  const topCid = CID.createV1(dagCbor.code, await sha256.digest(top))
  const blocks = new Map<string, Uint8Array>([
    [multihashKey(leafCid), leaf],
    [multihashKey(midCid), mid],
    [multihashKey(topCid), top]
  ])
  const store = { get: async (c: CID) => blocks.get(multihashKey(c)) }
  assert.deepEqual((await walk(store, topCid, MATCH_ROOT)).loads, [topCid.toString()])
  const depth = (n: number) => ({ R: { l: { depth: n }, ':>': { a: { '>': { '@': {} } } } } })
  // As go-ipld-prime counts: depth 1 stops at the root's edges, each further level follows one more.
  assert.deepEqual((await walk(store, topCid, depth(1))).loads, [topCid.toString()])
  assert.deepEqual((await walk(store, topCid, depth(2))).loads, [topCid.toString(), midCid.toString()])
  assert.equal((await walk(store, topCid, depth(3))).loads.length, 3)
  assert.equal((await walk(store, topCid, EXPLORE_ALL_RECURSIVELY)).loads.length, 3)
  // Explore a named field only.
  const fields = { f: { 'f>': { a: MATCH_ROOT } } }
  assert.deepEqual((await walk(store, topCid, fields)).loads, [topCid.toString(), midCid.toString()])
})

test('the path-then-all form walks the named entries, then the whole DAG below them', async () => {
  const car = await readCar(dir, 'dir-with-duplicate-files.car')
  const all = await walk(car, car.roots[0], EXPLORE_ALL_RECURSIVELY)
  const { decode } = await import('@ipld/dag-pb')
  const root = decode((await car.get(car.roots[0]))!)
  const sub = root.Links.find((l) => l.Name === 'multiblock.txt')!
  const onlySub = await walk(car, car.roots[0], pathSelector([sub.Name!]))
  assert.equal(onlySub.loads[0], car.roots[0].toString())
  assert.equal(onlySub.loads[1], sub.Hash.toString())
  assert.ok(onlySub.loads.length < all.loads.length, 'only the subtree is walked')
  const whole = await walk(car, sub.Hash, EXPLORE_ALL_RECURSIVELY)
  assert.deepEqual(onlySub.loads.slice(1), whole.loads, 'below the path, the whole sub-DAG')
  const none = await walk(car, car.roots[0], pathSelector(['no-such-entry']))
  assert.deepEqual(none.loads, [car.roots[0].toString()])
})

test('selectors we cannot run are refused with where they fail', () => {
  assert.throws(() => parseSelector({ '&': {} }), UnsupportedSelectorError)
  assert.throws(() => parseSelector({ R: { l: { none: {} }, ':>': { x: {} } } }), /\$\.R.*unknown selector "x"/)
  assert.throws(() => parseSelector({ a: {}, b: {} }), /one key/)
  assert.throws(() => parseSelector({ R: { l: { depth: -1 }, ':>': { '@': {} } } }), /non-negative/)
  assert.deepEqual(parseSelector({ '|': [MATCH_ROOT, { '@': {} }] }).kind, 'union')
})

test('dag-cbor map keys are explored in canonical order, "a" before "10", as Go walks them', async () => {
  const leaves = await Promise.all(
    ['first', 'second'].map(async (text) => {
      const bytes = new TextEncoder().encode(text)
      return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
    })
  )
  // A JavaScript object lists the integer-like key "10" first; the encoding (and Go) has "a" first.
  const top = dagCbor.encode({ 10: leaves[1].cid, a: leaves[0].cid })
  const topCid = CID.createV1(dagCbor.code, await sha256.digest(top))
  const blocks = new Map<string, Uint8Array>([
    [multihashKey(topCid), top],
    ...leaves.map((l) => [multihashKey(l.cid), l.bytes] as const)
  ])
  const { loads } = await walk({ get: async (c: CID) => blocks.get(multihashKey(c)) }, topCid, EXPLORE_ALL_RECURSIVELY)
  assert.deepEqual(loads, [topCid, leaves[0].cid, leaves[1].cid].map(String))
})
