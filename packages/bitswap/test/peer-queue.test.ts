import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PeerQueue } from '../src/peer-queue.ts'

test('held block bytes are counted as tasks come, are replaced, leave and are cleared', async () => {
  const cid = CID.createV1(raw.code, await sha256.digest(new Uint8Array([1])))
  const q = new PeerQueue()
  const base = { cid, kind: 'block' as const, priority: 1, sendDontHave: false }
  q.push({ ...base, key: 'a', bytes: new Uint8Array(100) })
  q.push({ ...base, key: 'b', bytes: new Uint8Array(50) })
  q.push({ ...base, key: 'c' })
  assert.equal(q.heldBytes, 150)
  q.push({ ...base, key: 'a', bytes: new Uint8Array(10) }) // replaces a's task
  assert.equal(q.heldBytes, 60)
  q.push({ ...base, key: 'b', kind: 'dont-have' }) // never downgrades b: its bytes stay
  assert.equal(q.heldBytes, 60)
  assert.equal(q.pop()?.key, 'a')
  assert.equal(q.heldBytes, 50)
  q.remove('b')
  assert.equal(q.heldBytes, 0)
  q.push({ ...base, key: 'd', bytes: new Uint8Array(7) })
  q.clear()
  assert.equal(q.heldBytes, 0)
  assert.equal(q.size, 0)
})
