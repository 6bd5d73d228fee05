import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { cidKey, ERROR_CLASSES, isErrorClass, multihashKey } from '../src/index.ts'

const V0 = 'QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n'
const v0 = CID.parse(V0)
const v1raw = CID.createV1(0x55, v0.multihash)

test('a CIDv0 and a CIDv1 of the same multihash share both keys', () => {
  assert.equal(multihashKey(v0), multihashKey(v1raw))
  assert.equal(multihashKey(v0), multihashKey(v0.multihash.bytes))
  assert.equal(cidKey(v0), cidKey(v1raw.toString()))
  assert.equal(cidKey(V0), `z${V0}`, 'the multibase base58btc of the multihash (as the records have always stored it)')
})

test('cidKey keeps a string that is not a CID as it is', () => {
  assert.equal(cidKey('not-a-cid'), 'not-a-cid')
})

test('multihashKey reads only the multihash inside a larger buffer', () => {
  const mh = v0.multihash.bytes
  const big = new Uint8Array(mh.byteLength + 8)
  big.set(mh, 4)
  assert.equal(multihashKey(big.subarray(4, 4 + mh.byteLength)), multihashKey(v0))
})

test('every error class is documented in docs/INTERFACE.md, and nothing else is', async () => {
  const doc = await readFile(new URL('../../../docs/INTERFACE.md', import.meta.url), 'utf8')
  const section = doc.split(/^#+ .*error classes.*$/im)[1]?.split(/^#+ /m)[0]
  assert.ok(section, 'docs/INTERFACE.md has a section titled "… error classes …"')
  const documented = [...section.matchAll(/^\|\s*`([a-z_]+)`\s*\|/gm)].map((m) => m[1])
  assert.deepEqual([...documented].sort(), [...ERROR_CLASSES].sort())
  assert.ok(isErrorClass('wrong_block'))
  assert.ok(!isErrorClass('nope'))
})
