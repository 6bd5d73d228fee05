import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Handoff } from '../src/handoff.ts'

const flush = () => new Promise((resolve) => setImmediate(resolve))

test('the producer waits once more than max items are queued and resumes as the consumer takes them', async () => {
  const handoff = new Handoff<number>(2)
  const puts: Array<boolean | 'waiting'> = []
  const producer = (async () => {
    for (let i = 0; i < 4; i++) {
      const index = puts.push('waiting') - 1
      puts[index] = await handoff.put(i)
    }
    handoff.end()
  })()
  await flush()
  // Three queued (max + 1): the third put waits for room, the fourth has not started.
  assert.deepEqual(puts, [true, true, 'waiting'])
  const taken: number[] = []
  for await (const item of handoff.items()) taken.push(item)
  await producer
  assert.deepEqual(taken, [0, 1, 2, 3])
  assert.deepEqual(puts, [true, true, true, true])
})

test('a consumer that leaves releases a waiting producer, which is told so', async () => {
  const handoff = new Handoff<number>(0)
  const waiting = handoff.put(1)
  await flush()
  handoff.close()
  assert.equal(await waiting, false)
  assert.equal(await handoff.put(2), false, 'later puts are refused at once')
})

test('items queued before the end are all delivered', async () => {
  const handoff = new Handoff<string>(8)
  await handoff.put('a')
  await handoff.put('b')
  handoff.end()
  const taken: string[] = []
  for await (const item of handoff.items()) taken.push(item)
  assert.deepEqual(taken, ['a', 'b'])
})
