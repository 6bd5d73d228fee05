import assert from 'node:assert/strict'
import { test } from 'node:test'
import { legacyFileMultihash } from '../src/legacy-import.ts'

test('a file of the older layout is named by its multihash in base32; other names are not keys', () => {
  // base32 of 0x12 0x02 0xab 0xcd, without the multibase prefix "b".
  assert.deepEqual(legacyFileMultihash('cibkxti'), Uint8Array.of(0x12, 2, 0xab, 0xcd))
  assert.equal(legacyFileMultihash('not-base32!'), undefined)
})
