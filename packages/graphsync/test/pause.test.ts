import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { multihashKey } from '@autoretrieve/interface'
import * as dagCbor from '@ipld/dag-cbor'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  type BlockGate,
  createGraphsync,
  EXPLORE_ALL_RECURSIVELY,
  type Graphsync,
  type GraphsyncRequest,
  type GraphsyncResponse,
  RequestCancelledError,
  RequestFailedError,
  type ResponsePause,
  ResponseStatus,
  type ResumeResult
} from '../src/index.ts'
import { loopbackNode } from './helpers.ts'

const LEAF_BYTES = 10_000
const LEAVES = 10
const blocks = new Map<string, Uint8Array>()
let root: CID
let otherRoot: CID

async function put(codec: number, bytes: Uint8Array): Promise<CID> {
  const cid = CID.createV1(codec, await sha256.digest(bytes))
  blocks.set(multihashKey(cid), bytes)
  return cid
}

/**
 * The test's pause hook: pauses before a block that would take the response past `limit` bytes
 * (and before the end when asked), and records every pause so the test can resume or end it.
 */
interface Paused {
  gate: BlockGate
  signal?: AbortSignal
  resolve(result: ResumeResult): void
}
let hook: { limit?: number; pauseAtEnd?: boolean; extensions?: Record<string, unknown> } = {}
let paused: Paused[] = []
let sentMessages = 0
const ended: Array<number | undefined> = []

function beforeBlock(_req: GraphsyncRequest, _peer: PeerId, gate: BlockGate): ResponsePause | undefined {
  const overLimit = hook.limit !== undefined && gate.bytesSent + gate.blockBytes > hook.limit
  if (!overLimit && !(gate.last && hook.pauseAtEnd === true)) return undefined
  let resolve!: (r: ResumeResult) => void
  const result = new Promise<ResumeResult>((r) => {
    resolve = r
  })
  const entry: Paused = { gate, resolve }
  paused.push(entry)
  return {
    extensions: hook.extensions,
    resume: (signal) => {
      entry.signal = signal
      return result
    }
  }
}

let providerNode: Libp2p
let clientNode: Libp2p
let provider: Graphsync
let client: Graphsync

before(async () => {
  const leaves: CID[] = []
  for (let i = 0; i < LEAVES; i++) leaves.push(await put(raw.code, new Uint8Array(LEAF_BYTES).fill(i + 1)))
  root = await put(dagCbor.code, dagCbor.encode({ leaves }))
  otherRoot = await put(raw.code, new TextEncoder().encode('another request entirely'))
  providerNode = await loopbackNode()
  clientNode = await loopbackNode()
  provider = createGraphsync(
    { libp2p: providerNode, blockstore: { get: async (cid) => blocks.get(multihashKey(cid)) } },
    {
      maxConcurrentResponses: 1,
      beforeBlock,
      transformOutgoing: (m) => {
        sentMessages++
        return m
      },
      onResponseEnded: (_req, _peer, status) => {
        ended.push(status)
      }
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

/** Runs a request in the background, keeping what arrives. */
function start(cid: CID, signal?: AbortSignal) {
  const got: CID[] = []
  const responses: GraphsyncResponse[] = []
  const done = (async () => {
    const gen = client.request(providerNode.peerId, cid, EXPLORE_ALL_RECURSIVELY, {
      signal,
      onResponse: (r) => responses.push(r)
    })
    for (;;) {
      const next = await gen.next()
      if (next.done) return next.value
      got.push(next.value.cid)
    }
  })()
  done.catch(() => {})
  return { got, responses, done }
}

async function until(what: string, check: () => boolean) {
  for (let i = 0; i < 500 && !check(); i++) await sleep(10)
  assert.ok(check(), `timed out waiting: ${what}`)
}

function reset(next: typeof hook) {
  hook = next
  paused = []
  ended.length = 0
}

test('a paused response sends status 15 with the hook extensions, then nothing until resumed', async () => {
  reset({ limit: 3 * LEAF_BYTES, extensions: { 'test/owed': 'pay me' } })
  const r = start(root)
  await until('the first pause', () => paused.length === 1)
  await until('the paused message arrives', () => r.responses.some((x) => x.status === ResponseStatus.RequestPaused))
  const pauseMsg = r.responses.find((x) => x.status === ResponseStatus.RequestPaused)!
  assert.deepEqual(pauseMsg.extensions, { 'test/owed': 'pay me' })
  assert.equal(paused[0].gate.bytesSent + paused[0].gate.blockBytes > hook.limit!, true)
  assert.ok(paused[0].gate.bytesSent <= hook.limit!, 'it paused before going past the limit')
  await until('the queued blocks are read', () => r.got.length === 3)
  const sentAtPause = sentMessages
  await sleep(200) // nothing is owed to the client while paused: no message may follow
  assert.equal(sentMessages, sentAtPause, 'nothing was sent while paused')
  assert.equal(r.got.length, 3, 'the root and the leaves within the limit, no more')

  // Resuming with extensions sends them at once; the hook is asked again before the same block.
  hook = { limit: 20 * LEAF_BYTES }
  paused[0].resolve({ extensions: { 'test/resumed': true } })
  const result = await r.done
  assert.equal(result.status, ResponseStatus.RequestCompletedFull)
  assert.equal(r.got.length, LEAVES + 1)
  assert.ok(r.responses.some((x) => x.status === ResponseStatus.PartialResponse && x.extensions?.['test/resumed']))
  assert.equal(paused.length, 1)
  await until('the response ended', () => ended.length === 1)
  assert.deepEqual(ended, [ResponseStatus.RequestCompletedFull])
})

test('a pause before the final message holds the terminal status until resumed', async () => {
  reset({ pauseAtEnd: true })
  const r = start(root)
  await until('the final pause', () => paused.length === 1)
  assert.equal(paused[0].gate.last, true)
  assert.equal(paused[0].gate.blockBytes, 0)
  await until('every block arrives', () => r.got.length === LEAVES + 1)
  assert.ok(!r.responses.some((x) => x.status >= 20), 'no terminal status while paused')
  hook = {} // the hook is asked again once resumed
  paused[0].resolve({})
  assert.equal((await r.done).status, ResponseStatus.RequestCompletedFull)
})

test('a paused response told to end sends that terminal status with its extensions', async () => {
  reset({ limit: LEAF_BYTES })
  const r = start(root)
  await until('the pause', () => paused.length === 1)
  paused[0].resolve({ status: ResponseStatus.RequestCancelled, extensions: { 'test/why': 'bad voucher' } })
  await assert.rejects(
    r.done,
    (e: Error) =>
      e instanceof RequestFailedError &&
      e.status === ResponseStatus.RequestCancelled &&
      e.extensions['test/why'] === 'bad voucher'
  )
  await until('the response ended', () => ended.length === 1)
  assert.deepEqual(ended, [ResponseStatus.RequestCancelled])
  assert.ok(r.got.length <= 2, 'no block past the limit')
})

test('a requester that cancels while paused ends the response: the hook sees the abort, nothing leaks', async () => {
  reset({ limit: 2 * LEAF_BYTES })
  const controller = new AbortController()
  const r = start(root, controller.signal)
  await until('the pause', () => paused.length === 1 && paused[0].signal !== undefined)
  controller.abort()
  await assert.rejects(r.done, RequestCancelledError)
  await until('the responder saw the cancel', () => paused[0].signal?.aborted === true)
  await until('the response ended', () => ended.length === 1)
  assert.deepEqual(ended, [undefined], 'cancelled: no terminal status sent')
  assert.equal(provider.stats().inProgressResponses, 0)
  // Resolving the abandoned pause afterwards is harmless.
  paused[0].resolve({})
  reset({})
  assert.equal((await start(otherRoot).done).status, ResponseStatus.RequestCompletedFull)
})

test('a paused response gives up its worker: another request is served meanwhile, then it resumes', async () => {
  reset({ limit: 2 * LEAF_BYTES })
  const first = start(root)
  await until('the pause', () => paused.length === 1)
  // One worker only (maxConcurrentResponses 1): the paused response must not hold it.
  const second = start(otherRoot)
  assert.equal((await second.done).status, ResponseStatus.RequestCompletedFull)
  hook = {}
  paused[0].resolve({})
  assert.equal((await first.done).status, ResponseStatus.RequestCompletedFull)
  assert.equal(first.got.length, LEAVES + 1)
})

test('stopping the responder while a response is paused ends it: the hook sees the abort', async (t) => {
  const node = await loopbackNode()
  t.after(() => node.stop())
  let signal: AbortSignal | undefined
  const endedHere: Array<number | undefined> = []
  const stopping = createGraphsync(
    { libp2p: node, blockstore: { get: async (cid) => blocks.get(multihashKey(cid)) } },
    {
      beforeBlock: (_req, _peer, gate) =>
        gate.bytesSent > 0
          ? {
              resume: (s) => {
                signal = s
                return new Promise<ResumeResult>(() => {}) // never paid
              }
            }
          : undefined,
      onResponseEnded: (_req, _peer, status) => {
        endedHere.push(status)
      }
    }
  )
  await stopping.start()
  await clientNode.dial(node.getMultiaddrs())
  const got: CID[] = []
  const done = (async () => {
    for await (const b of client.request(node.peerId, root, EXPLORE_ALL_RECURSIVELY)) got.push(b.cid)
  })()
  done.catch(() => {})
  await until('the pause', () => signal !== undefined)
  await stopping.stop()
  assert.equal(signal?.aborted, true)
  await until('the response ended', () => endedHere.length === 1)
  assert.deepEqual(endedHere, [undefined])
  assert.equal(stopping.stats().inProgressResponses, 0)
  await node.stop() // the requester sees the peer go
  await assert.rejects(done)
  assert.ok(got.length <= 1, 'the root at most: the hook paused before the first leaf')
})
