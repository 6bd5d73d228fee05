import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DEFAULT_MAX_PENDING_BYTES_PER_PEER, DEFAULT_RECENT_BYTES_PER_PEER } from '../src/constants.ts'
import { ReceivedBlocks } from '../src/received-blocks.ts'

const MiB = 1024 * 1024

test('a taken block stays available to a second request until the recent bytes bound evicts it', () => {
  const store = new ReceivedBlocks()
  const a = new Uint8Array(MiB).fill(1)
  store.add('a', a)
  assert.equal(store.take('a'), a, 'pending first')
  assert.equal(store.take('a'), a, 'then from the recent set')
  // Fill the recent set past its byte bound: the oldest entry goes.
  for (let i = 0; i < DEFAULT_RECENT_BYTES_PER_PEER / MiB; i++) {
    store.add(`b${i}`, new Uint8Array(MiB))
    store.take(`b${i}`)
  }
  assert.equal(store.take('a'), undefined)
  assert.equal(store.take('never sent'), undefined)
})

test('an empty block is kept like any other', () => {
  const store = new ReceivedBlocks()
  store.add('empty', new Uint8Array(0))
  assert.deepEqual(store.take('empty'), new Uint8Array(0))
  assert.deepEqual(store.take('empty'), new Uint8Array(0))
})

test('blocks no traversal has taken count against the flood bound; a second copy does not', () => {
  const store = new ReceivedBlocks()
  const chunk = new Uint8Array(4 * MiB)
  const fits = DEFAULT_MAX_PENDING_BYTES_PER_PEER / chunk.byteLength
  for (let i = 0; i < fits; i++) store.add(`k${i}`, chunk)
  store.add('k0', chunk)
  assert.equal(store.flooded, false, 'exactly at the bound, and the duplicate is ignored')
  store.add('one more', new Uint8Array(1))
  assert.equal(store.flooded, true)
  store.take('k0')
  assert.equal(store.flooded, false, 'taking a block frees its bytes')
})

test('a waiter wakes on arrival, or after its wait at most', async () => {
  const store = new ReceivedBlocks()
  const woken = store.waitForArrival(60_000)
  store.wake()
  await woken
  const started = performance.now()
  await store.waitForArrival(5)
  assert.ok(performance.now() - started >= 4)
})
