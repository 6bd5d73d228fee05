import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type Logger, multihashKey, silentLogger } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { BlockNotifier } from '../src/notifier.ts'

async function block(n: number) {
  const bytes = Uint8Array.of(n, n, n)
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  return { cid, key: multihashKey(cid), bytes }
}

const nothing = () => undefined
const forever = { timeoutMs: 60_000 }

test('waiters for a block all get it when it arrives, and are gone after', async () => {
  const notifier = new BlockNotifier({ logger: silentLogger })
  const b = await block(1)
  const other = await block(2)
  const waits = [1, 2, 3].map(() => notifier.wait(b.key, b.cid, forever, nothing))
  const otherWait = notifier.wait(other.key, other.cid, { timeoutMs: 10 }, nothing)
  assert.equal(notifier.awaiting, 4)
  notifier.block(b.key, b.cid, b.bytes)
  for (const got of await Promise.all(waits)) assert.equal(got, b.bytes)
  await assert.rejects(otherWait, { name: 'AwaitTimeoutError', code: 'ERR_AWAIT_TIMEOUT' })
  assert.equal(notifier.awaiting, 0)
})

test('a block already here once the waiter is registered is handed over, at once or when its read is done', async () => {
  const notifier = new BlockNotifier({ logger: silentLogger })
  const b = await block(3)
  assert.equal(await notifier.wait(b.key, b.cid, forever, () => b.bytes), b.bytes)
  assert.equal(await notifier.wait(b.key, b.cid, forever, () => Promise.resolve(b.bytes)), b.bytes)
  // A read that finds nothing (deleted meanwhile) leaves the waiter waiting.
  const waiting = notifier.wait(b.key, b.cid, forever, () => Promise.resolve(undefined))
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(notifier.awaiting, 1)
  notifier.block(b.key, b.cid, b.bytes)
  assert.equal(await waiting, b.bytes)
  const failing = notifier.wait(b.key, b.cid, forever, () => Promise.reject(new Error('read failed')))
  await assert.rejects(failing, { message: 'read failed' })
  assert.equal(notifier.awaiting, 0)
})

test('an abort rejects with the signal’s reason, before or while waiting; stop rejects every waiter', async () => {
  const notifier = new BlockNotifier({ logger: silentLogger })
  const b = await block(4)
  await assert.rejects(notifier.wait(b.key, b.cid, { ...forever, signal: AbortSignal.abort() }, nothing), {
    name: 'AbortError'
  })
  const controller = new AbortController()
  const aborted = notifier.wait(b.key, b.cid, { ...forever, signal: controller.signal }, nothing)
  const stopped = notifier.wait(b.key, b.cid, forever, nothing)
  controller.abort()
  await assert.rejects(aborted, { name: 'AbortError' })
  assert.equal(notifier.awaiting, 1)
  notifier.rejectAll(Object.assign(new Error('stopped'), { name: 'CacheStoppedError' }))
  await assert.rejects(stopped, { name: 'CacheStoppedError' })
  assert.equal(notifier.awaiting, 0)
})

test('every listener hears of each block and each corrupt one; one that throws is logged and the rest still hear', async () => {
  const warnings: string[] = []
  const logger: Logger = { ...silentLogger, warn: (_obj, msg) => warnings.push(msg ?? '') }
  const notifier = new BlockNotifier({ logger })
  const heard: string[] = []
  notifier.onBlock(() => {
    throw new Error('bad listener')
  })
  const off = notifier.onBlock((cid) => heard.push(`block ${cid}`))
  notifier.onCorrupt((cid) => heard.push(`corrupt ${cid}`))
  const b = await block(5)
  notifier.block(b.key, b.cid, b.bytes)
  notifier.corrupt(b.cid)
  off()
  notifier.block(b.key, b.cid, b.bytes)
  assert.deepEqual(heard, [`block ${b.cid}`, `corrupt ${b.cid}`])
  assert.deepEqual(warnings, ['block cache listener failed', 'block cache listener failed'])
})
