import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { silentLogger } from '@autoretrieve/interface'
import { RETRY_BASE_MS, RETRY_MAX_MS } from '../src/constants.ts'
import { SendScheduler } from '../src/send-scheduler.ts'

/** A scheduler over hand-made queues: `work[peer]` batches left; each send is resolved by the test. */
function setup(concurrency: number) {
  const work = new Map<string, number>()
  const pending: Array<{ peer: string; done: (err?: Error) => void }> = []
  const sent: string[] = []
  const scheduler = new SendScheduler(
    {
      logger: silentLogger,
      hasWork: (peer) => (work.get(peer) ?? 0) > 0,
      send: (peer) =>
        new Promise<void>((resolve, reject) => {
          sent.push(peer)
          pending.push({
            peer,
            done: (err) => {
              if (err) return reject(err)
              work.set(peer, (work.get(peer) ?? 1) - 1)
              resolve()
            }
          })
        })
    },
    { concurrency }
  )
  scheduler.start()
  /** Settles the oldest send under way, then lets the scheduler's follow-up run. */
  const finish = async (err?: Error) => {
    pending.shift()!.done(err)
    for (let i = 0; i < 5; i++) await Promise.resolve()
  }
  return { scheduler, work, pending, sent, finish }
}

test('at most `concurrency` peers are sent to at once; the others wait their turn in order', async () => {
  const { scheduler, work, pending, sent, finish } = setup(2)
  for (const p of ['a', 'b', 'c']) {
    work.set(p, 1)
    scheduler.schedule(p)
  }
  assert.deepEqual(sent, ['a', 'b'])
  assert.equal(scheduler.isSending('a'), true)
  scheduler.schedule('a') // already being sent to: not twice at once
  assert.equal(pending.length, 2)
  await finish()
  assert.deepEqual(sent, ['a', 'b', 'c'])
  scheduler.stop()
})

test('a peer with more to send goes to the back of the line after each batch', async () => {
  const { scheduler, work, sent, finish } = setup(1)
  work.set('a', 2)
  work.set('b', 1)
  scheduler.schedule('a')
  scheduler.schedule('b')
  await finish()
  await finish()
  await finish()
  assert.deepEqual(sent, ['a', 'b', 'a'])
  scheduler.stop()
})

test('a failed batch is retried after RETRY_BASE_MS, doubling up to RETRY_MAX_MS, and the count resets on success', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] })
  t.after(() => mock.timers.reset())
  const { scheduler, work, sent, finish } = setup(1)
  work.set('a', 1)
  scheduler.schedule('a')
  const delays: number[] = []
  for (let failure = 1; failure <= 8; failure++) {
    await finish(new Error('dial failed'))
    const before = sent.length
    let waited = 0
    while (sent.length === before) {
      mock.timers.tick(10)
      waited += 10
      assert.ok(waited <= RETRY_MAX_MS, 'retried within RETRY_MAX_MS')
    }
    delays.push(waited)
  }
  const expected = [1, 2, 4, 8, 16, 32, 64, 128].map((f) => Math.min(RETRY_MAX_MS, RETRY_BASE_MS * f))
  assert.deepEqual(delays, expected)
  await finish() // sent: the next failure starts from RETRY_BASE_MS again
  work.set('a', 1)
  scheduler.schedule('a')
  await finish(new Error('dial failed'))
  const before = sent.length
  mock.timers.tick(RETRY_BASE_MS)
  assert.equal(sent.length, before + 1)
  scheduler.stop()
})

test('a forgotten peer is not retried, and nothing is sent after stop', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] })
  t.after(() => mock.timers.reset())
  const { scheduler, work, sent, finish } = setup(1)
  work.set('a', 1)
  scheduler.schedule('a')
  await finish(new Error('dial failed'))
  scheduler.forget('a')
  mock.timers.tick(RETRY_MAX_MS)
  assert.deepEqual(sent, ['a'])
  scheduler.stop()
  work.set('b', 1)
  scheduler.schedule('b')
  assert.deepEqual(sent, ['a'])
})
