import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { multihashKey } from '@autoretrieve/interface'
import * as dagCbor from '@ipld/dag-cbor'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  createGraphsync,
  EXPLORE_ALL_RECURSIVELY,
  encodeFrame,
  encodeMessage,
  type Graphsync,
  type GraphsyncMessage,
  ReceiveError,
  RemoteIncorrectResponseError,
  RequestCancelledError,
  RequestFailedError,
  RequestType,
  ResponseStatus
} from '../src/index.ts'
import { loopbackNode } from './helpers.ts'

const blocks = new Map<string, Uint8Array>()
async function put(codec: number, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(codec, await sha256.digest(bytes))
  blocks.set(multihashKey(cid), bytes)
  return cid
}
/** Deterministic bytes so runs are reproducible. */
function fill(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed * 2654435761
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

let providerNode: Libp2p
let clientNode: Libp2p
let provider: Graphsync
let client: Graphsync
let faults: { transform?: (m: GraphsyncMessage) => GraphsyncMessage | 'reset'; reject?: boolean } = {}
const shared: CID[] = []
const roots: CID[] = []
let bigRoot: CID

before(async () => {
  for (let i = 0; i < 4; i++) shared.push(await put(raw.code, fill(64 * 1024, i + 1)))
  for (let r = 0; r < 10; r++) {
    const own = await put(raw.code, fill(100 * 1024, 100 + r))
    roots.push(await put(dagCbor.code, dagCbor.encode({ n: r, leaves: [...shared, own] })))
  }
  const leaves: CID[] = []
  for (let i = 0; i < 24; i++) leaves.push(await put(raw.code, fill(256 * 1024, 1000 + i)))
  bigRoot = await put(dagCbor.code, dagCbor.encode({ leaves }))

  providerNode = await loopbackNode()
  clientNode = await loopbackNode()
  provider = createGraphsync(
    { libp2p: providerNode, blockstore: { get: async (cid) => blocks.get(multihashKey(cid)) } },
    {
      validateRequest: () =>
        faults.reject
          ? { accept: false, status: ResponseStatus.RequestFailedUnknown, extensions: { 'test/why': 'not today' } }
          : { accept: true, extensions: { 'test/hello': 1 } },
      transformOutgoing: (m) => faults.transform?.(m) ?? m
    }
  )
  client = createGraphsync({ libp2p: clientNode })
  await provider.start()
  await client.start()
  await clientNode.dial(providerNode.getMultiaddrs())
})

after(async () => {
  await client.stop()
  await provider.stop()
  await clientNode.stop()
  await providerNode.stop()
})

async function fetchAll(root: CID, signal?: AbortSignal) {
  const got: CID[] = []
  const gen = client.request(providerNode.peerId, root, EXPLORE_ALL_RECURSIVELY, { signal })
  let result: Awaited<ReturnType<Graphsync['request']>['next']> extends infer _ ? unknown : never
  while (true) {
    const next = await gen.next()
    if (next.done) {
      result = next.value
      break
    }
    assert.ok(Buffer.from(next.value.bytes).equals(blocks.get(multihashKey(next.value.cid))!), 'bytes are the block')
    got.push(next.value.cid)
  }
  return { got, result: result as { status: number; missing: CID[] } }
}

test('a whole 6 MiB DAG arrives in traversal order over many messages, each block once', async () => {
  faults = {}
  const { got, result } = await fetchAll(bigRoot)
  assert.equal(result.status, ResponseStatus.RequestCompletedFull)
  assert.equal(got.length, 25)
  assert.ok(got[0].equals(bigRoot))
  const node = dagCbor.decode(blocks.get(multihashKey(bigRoot))!) as { leaves: CID[] }
  assert.deepEqual(got.slice(1).map(String), node.leaves.map(String))
})

test('ten retrievals of different roots from one provider at once all complete, de-duplicated blocks included', async () => {
  let blocksSent = 0
  faults = {
    transform: (m) => {
      blocksSent += m.blocks?.length ?? 0
      return m
    }
  }
  const results = await Promise.all(roots.map((r) => fetchAll(r)))
  faults = {}
  assert.ok(blocksSent < 60, `the responder de-duplicated shared leaves across requests (${blocksSent} of 60 sent)`)
  for (const [i, { got, result }] of results.entries()) {
    assert.equal(result.status, ResponseStatus.RequestCompletedFull, `root ${i}`)
    assert.equal(got.length, 6, `root ${i}: root, 4 shared leaves, its own leaf`)
  }
  assert.deepEqual(client.stats(), { inProgressRequests: 0, inProgressResponses: 0 })
})

test('an unknown root ends with status 34 (content not found)', async () => {
  faults = {}
  const unknown = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('nobody has this')))
  await assert.rejects(fetchAll(unknown), (e: Error) => e instanceof RequestFailedError && e.status === 34)
})

test('a rejection carries its status and the hook extensions to the requester', async () => {
  faults = { reject: true }
  await assert.rejects(
    fetchAll(roots[0]),
    (e: Error) =>
      e instanceof RequestFailedError &&
      e.status === 32 &&
      (e.extensions as Record<string, unknown>)['test/why'] === 'not today'
  )
  faults = {}
})

test('metadata naming a link outside the traversal fails the request as an incorrect response', async () => {
  const stranger = await put(raw.code, fill(10, 99))
  faults = {
    transform: (m) => ({
      ...m,
      responses: m.responses?.map((r) => ({
        ...r,
        metadata: r.metadata?.map((x, i) => (i === 1 ? { link: stranger, action: x.action } : x))
      }))
    })
  }
  await assert.rejects(
    fetchAll(roots[1]),
    (e: Error) => e instanceof RemoteIncorrectResponseError && /expects/.test(e.message)
  )
  faults = {}
})

test('a stream reset midway fails the request promptly instead of hanging', async () => {
  let sent = 0
  faults = { transform: (m) => (sent++ >= 2 ? 'reset' : m) }
  const started = Date.now()
  await assert.rejects(
    fetchAll(bigRoot),
    (e: Error) => e instanceof ReceiveError && e.code === 'ERR_GRAPHSYNC_RECEIVE_ERROR' && /reset/.test(e.message)
  )
  assert.ok(Date.now() - started < 10_000)
  faults = {}
})

test('aborting cancels at the responder, which stops sending', async () => {
  faults = {}
  const controller = new AbortController()
  let n = 0
  await assert.rejects(async () => {
    for await (const _ of client.request(providerNode.peerId, bigRoot, EXPLORE_ALL_RECURSIVELY, {
      signal: controller.signal
    })) {
      if (++n === 2) controller.abort()
    }
  }, RequestCancelledError)
  for (let i = 0; i < 100 && provider.stats().inProgressResponses > 0; i++) await new Promise((r) => setTimeout(r, 20))
  assert.equal(provider.stats().inProgressResponses, 0, 'the responder dropped the cancelled request')
  // Breaking out of the loop also cancels.
  for await (const _ of client.request(providerNode.peerId, bigRoot, EXPLORE_ALL_RECURSIVELY)) break
  const after = await fetchAll(roots[2])
  assert.equal(after.result.status, 20, 'the peer still serves afterwards')
})

test('a peer that sends each message on a stream of its own is heard past the inbound stream limit', async () => {
  // Each stream is closed by the peer after one message; unless the router closes its end too,
  // each stays half-open and counts against the protocol's 64 inbound streams.
  for (let i = 0; i < 100; i++) {
    const stream = await clientNode.dialProtocol(providerNode.peerId, '/ipfs/graphsync/2.0.0', {
      signal: AbortSignal.timeout(5_000)
    })
    if (stream.status !== 'open') assert.fail(`stream ${i + 1} was closed by the provider at once`)
    const id = Uint8Array.from({ length: 16 }, (_, k) => (k === 0 ? i : 0))
    stream.send(encodeFrame(encodeMessage({ requests: [{ id, type: RequestType.Cancel }] })))
    await stream.close({ signal: AbortSignal.timeout(5_000) })
  }
})
