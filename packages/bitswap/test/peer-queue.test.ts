import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PeerQueue } from '../src/peer-queue.ts'
import { RecentKeys } from '../src/recent-keys.ts'

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

test('queues that share a held count keep it equal to the bytes all of them hold', async () => {
  const cid = CID.createV1(raw.code, await sha256.digest(new Uint8Array([2])))
  const shared = { bytes: 0 }
  const a = new PeerQueue(shared)
  const b = new PeerQueue(shared)
  const base = { cid, kind: 'block' as const, priority: 1, sendDontHave: false }
  a.push({ ...base, key: 'x', bytes: new Uint8Array(100) })
  b.push({ ...base, key: 'x', bytes: new Uint8Array(100) })
  b.push({ ...base, key: 'y', bytes: new Uint8Array(30) })
  assert.equal(shared.bytes, 230)
  const popped = a.pop()
  assert.equal(shared.bytes, 130)
  a.requeue(popped!)
  assert.equal(shared.bytes, 230)
  b.clear()
  assert.equal(shared.bytes, 100)
  a.remove('x')
  assert.equal(shared.bytes, 0)
  assert.equal(a.heldBytes + b.heldBytes, 0)
})

async function task(n: number, priority = 1) {
  const cid = CID.createV1(raw.code, await sha256.digest(new Uint8Array([n])))
  return { key: `k${n}`, cid, kind: 'block' as const, priority, sendDontHave: false }
}

test('the queue serves highest priority first, then a preferred task, then the oldest', async () => {
  const q = new PeerQueue()
  for (const [n, p] of [
    [1, 1],
    [2, 1],
    [3, 5],
    [4, 1]
  ])
    q.push(await task(n, p))
  const preferred = (t: { key: string }) => t.key === 'k4'
  assert.equal(q.pop(preferred)?.key, 'k3', 'priority beats preference')
  assert.equal(q.pop(preferred)?.key, 'k4', 'preferred among equals')
  assert.equal(q.pop(preferred)?.key, 'k1', 'then oldest')
  assert.equal(q.pop()?.key, 'k2')
  assert.equal(q.pop(), undefined)
})

test('a requeued task keeps its place in line; one asked again meanwhile is not overwritten', async () => {
  const q = new PeerQueue()
  for (const n of [1, 2, 3]) q.push(await task(n))
  const first = q.pop()!
  assert.equal(first.key, 'k1')
  q.requeue(first)
  assert.equal(q.pop()?.key, 'k1', 'back in front, not behind k3')
  const second = q.pop()!
  assert.equal(second.key, 'k2')
  q.push({ ...(await task(2)), kind: 'have' })
  q.requeue(second)
  assert.equal(q.size, 2)
  const rest = [q.pop()!, q.pop()!]
  assert.equal(rest.find((t) => t.key === 'k2')?.kind, 'have', 'the newer answer stays')
})

test('recent keys are bounded by bytes, oldest forgotten first', () => {
  const r = new RecentKeys(1000)
  r.add('a', 400)
  r.add('b', 400)
  r.add('a', 400) // refreshed: b is now the oldest
  r.add('c', 400)
  assert.equal(r.has('b'), false)
  assert.equal(r.has('a'), true)
  assert.equal(r.has('c'), true)
  assert.equal(r.bytes, 800)
  r.add('huge', 2000)
  assert.equal(r.has('huge'), false, 'larger than the bound: never kept')
  assert.equal(r.size, 2)
})

test('recent keys take estimated sizes as they come: fractional, zero, and a bound of zero', () => {
  const r = new RecentKeys(1000)
  r.add('avg', 333.4) // a peer's running average block size
  r.add('empty', 0) // an empty block
  assert.equal(r.has('avg'), true)
  assert.equal(r.has('empty'), true)
  assert.ok(r.bytes >= 334 && r.bytes <= 1000)
  const none = new RecentKeys(0)
  none.add('a', 10)
  assert.equal(none.has('a'), false, 'a bound of zero keeps nothing')
})
