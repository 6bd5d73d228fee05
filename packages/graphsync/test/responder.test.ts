import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { multihashKey } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createGraphsync, EXPLORE_ALL_RECURSIVELY } from '../src/index.ts'
import { loopbackNode } from './helpers.ts'

test('a responder serves maxConcurrentResponses requests at once and the rest in turn', async (t) => {
  const bytes = new TextEncoder().encode('one block')
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  const providerNode = await loopbackNode()
  const clientNode = await loopbackNode()
  t.after(() => Promise.all([providerNode.stop(), clientNode.stop()]))
  let active = 0
  let maxActive = 0
  const gates: Array<() => void> = []
  const provider = createGraphsync(
    {
      libp2p: providerNode,
      blockstore: { get: async (c) => (multihashKey(c) === multihashKey(cid) ? bytes : undefined) }
    },
    {
      maxConcurrentResponses: 2,
      validateRequest: async () => {
        maxActive = Math.max(maxActive, ++active)
        await new Promise<void>((resolve) => gates.push(resolve))
        return { accept: true }
      },
      onResponseEnded: () => {
        active--
      }
    }
  )
  const client = createGraphsync({ libp2p: clientNode })
  await provider.start()
  await client.start()
  t.after(() => Promise.all([client.stop(), provider.stop()]))
  await clientNode.dial(providerNode.getMultiaddrs())

  const fetch = async () => {
    const out: Uint8Array[] = []
    const it = client.request(providerNode.peerId, cid, EXPLORE_ALL_RECURSIVELY)
    for await (const block of it) out.push(block.bytes)
    return out
  }
  const requests = [fetch(), fetch(), fetch(), fetch(), fetch()]
  for (let i = 0; i < 200 && provider.stats().inProgressResponses < 5; i++) await sleep(10)
  assert.equal(provider.stats().inProgressResponses, 5, 'all five are taken in, queued or running')
  const running = () => gates.length
  assert.equal(running(), 2, 'two run; three wait their turn')
  // Open the gates one at a time: each ending lets exactly one more in.
  for (let opened = 0; opened < 5; opened++) {
    for (let i = 0; i < 200 && running() === 0; i++) await sleep(10)
    gates.shift()?.()
  }
  const results = await Promise.all(requests)
  assert.equal(maxActive, 2)
  for (const blocks of results)
    assert.deepEqual(
      blocks.map((b) => Buffer.from(b)),
      [Buffer.from(bytes)]
    )
  for (let i = 0; i < 100 && provider.stats().inProgressResponses > 0; i++) await sleep(10)
  assert.equal(provider.stats().inProgressResponses, 0)
})

test('stopping a responder drops the requests still waiting their turn', async (t) => {
  const providerNode = await loopbackNode()
  const clientNode = await loopbackNode()
  t.after(() => Promise.all([providerNode.stop(), clientNode.stop()]))
  const hooks: number[] = []
  const provider = createGraphsync(
    { libp2p: providerNode, blockstore: { get: async () => undefined } },
    {
      maxConcurrentResponses: 1,
      validateRequest: async () => {
        hooks.push(hooks.length)
        await new Promise<void>(() => {}) // never answers
        return { accept: true }
      }
    }
  )
  const client = createGraphsync({ libp2p: clientNode })
  await provider.start()
  await client.start()
  t.after(() => client.stop())
  await clientNode.dial(providerNode.getMultiaddrs())
  const root = CID.createV1(raw.code, await sha256.digest(Uint8Array.of(1)))
  const controller = new AbortController()
  const pending = [1, 2, 3].map(async () => {
    for await (const _ of client.request(providerNode.peerId, root, EXPLORE_ALL_RECURSIVELY, {
      signal: controller.signal
    }))
      void _
  })
  for (let i = 0; i < 200 && provider.stats().inProgressResponses < 3; i++) await sleep(10)
  assert.equal(provider.stats().inProgressResponses, 3)
  await provider.stop()
  assert.ok(provider.stats().inProgressResponses <= 1, 'the queued two are gone at once')
  assert.equal(hooks.length, 1, 'a dropped request never reaches the hook')
  controller.abort()
  await Promise.allSettled(pending)
})
