import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSnapshot } from '@autoretrieve/policy'
import type { Candidate } from '@autoretrieve/routing'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import type { CID } from 'multiformats/cid'
import { createRetriever, type ProtocolAdapter } from '../src/index.ts'
import { DEFAULTS } from './helpers.ts'

test('an attempt whose blocks are all at hand still lets the node read its sockets while it works through them', async () => {
  // A CAR that arrives faster than it is verified used to be worked through in one run of
  // microtasks: nothing else (a peer's wants, a window update) was read until the last block.
  const fixture = await createUnixfsFixture({ size: 16 * 1024 * 1024, chunkSize: 64 * 1024, seed: 31 })
  const stored = new Map<string, Uint8Array>()
  const adapter: ProtocolAdapter = {
    protocol: 'http',
    ordered: true,
    supports: () => true,
    async *retrieve() {
      for (const b of fixture.blocks) yield { cid: b.cid, bytes: b.bytes }
    }
  }
  const candidate: Candidate = {
    peerId: '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
    addrs: [],
    protocols: ['http'],
    httpUrls: ['http://127.0.0.1:1'],
    rootCid: fixture.root.toString(),
    source: 'static'
  }
  const retriever = createRetriever({
    cache: {
      has: async (cid: CID) => stored.has(cid.toString()),
      get: async (cid: CID) => stored.get(cid.toString()),
      put: async (cid: CID, bytes: Uint8Array) => {
        stored.set(cid.toString(), bytes)
        return true
      }
    },
    policy: () => createSnapshot({ version: 1, defaultMinerConfig: DEFAULTS }),
    candidates: { find: async function* () {} },
    adapters: [adapter]
  })
  let blocksDone = 0
  let blocksWhenIoRan = -1
  const done = retriever.retrieve(fixture.root, {
    providers: [candidate],
    onProgress: (e) => {
      if (e.type === 'block') blocksDone = e.blocks
    }
  })
  setImmediate(() => {
    blocksWhenIoRan = blocksDone
  })
  const result = await done
  assert.equal(result.ok, true, JSON.stringify(result))
  assert.ok(
    blocksWhenIoRan >= 0 && blocksWhenIoRan < fixture.blocks.length,
    `the event loop first got a turn after block ${blocksWhenIoRan} of ${fixture.blocks.length} (-1: not before the end)`
  )
})
