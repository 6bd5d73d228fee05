import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { type Running, RunningRetrievals } from '../src/joining.ts'

const DAG_PB = 0x70
const RAW = 0x55

async function cidOf(text: string, codec = RAW): Promise<CID> {
  return CID.createV1(codec, await sha256.digest(new TextEncoder().encode(text)))
}

/** A retrieval that runs until the test ends it. */
function controllable() {
  const started: Running[] = []
  let finish: (value: string) => void = () => {}
  const start = (running: Running) => {
    started.push(running)
    return new Promise<string>((resolve) => {
      finish = resolve
    })
  }
  return { started, start, finish: (value: string) => finish(value) }
}

test('every want for one root, and for a block a running retrieval has seen a link to, waits on that retrieval', async () => {
  const table = new RunningRetrievals<string>()
  const root = await cidOf('root', DAG_PB)
  const child = await cidOf('child')
  const r = controllable()
  const first = table.join(root, { requestedBy: 'peer-a' }, r.start)
  const again = table.join(root, { requestedBy: 'peer-b' }, r.start)
  r.started[0].expect([child])
  // A CID of another codec with the same multihash names the same block.
  const byOtherCodec = table.join(CID.createV1(DAG_PB, child.multihash), {}, r.start)
  assert.equal(r.started.length, 1)
  assert.deepEqual([...r.started[0].requestedBy], ['peer-a', 'peer-b'])
  r.finish('done')
  assert.deepEqual(await Promise.all([first, again, byOtherCodec]), ['done', 'done', 'done'])
  assert.equal(table.size, 0)
  assert.equal(table.expectedSize, 0, 'the links it announced left with it')
  const next = controllable()
  const anew = table.join(child, {}, next.start)
  assert.equal(next.started.length, 1, 'a want after the end starts a retrieval of its own')
  next.finish('again')
  assert.equal(await anew, 'again')
})

test('a waiter that leaves is released at once; the retrieval is aborted only when the last one leaves', async () => {
  const table = new RunningRetrievals<string>()
  const root = await cidOf('root')
  const r = controllable()
  const a = new AbortController()
  const b = new AbortController()
  const first = table.join(root, { signal: a.signal }, r.start)
  const second = table.join(root, { signal: b.signal }, r.start)
  a.abort(new Error('peer a went away'))
  await assert.rejects(first, /peer a went away/)
  assert.equal(r.started[0].signal.aborted, false, 'b still waits')
  b.abort(new Error('peer b went away'))
  await assert.rejects(second, /peer b went away/)
  assert.equal(r.started[0].signal.aborted, true)
  r.finish('late')
})

test('the first retrieval to see a link keeps it', async () => {
  const table = new RunningRetrievals<string>()
  const shared = await cidOf('shared leaf')
  const one = controllable()
  const two = controllable()
  const a = table.join(await cidOf('root one'), {}, one.start)
  const b = table.join(await cidOf('root two'), {}, two.start)
  one.started[0].expect([shared])
  two.started[0].expect([shared])
  two.finish('two')
  await b
  assert.equal(table.expectedSize, 1, 'the second did not take the key, so its end left it in place')
  const joined = table.join(shared, {}, () => Promise.resolve('a new one'))
  one.finish('one')
  assert.equal(await joined, 'one')
  await a
})
