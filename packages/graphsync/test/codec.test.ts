import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  BinaryString,
  blockCid,
  decodeDagCbor,
  decodeMessage,
  EXPLORE_ALL_RECURSIVELY,
  encodeDagCbor,
  encodeFrame,
  encodeMessage,
  encodeMessageParts,
  LinkAction,
  MalformedMessageError,
  MessageTooLargeError,
  RequestType,
  readFrames
} from '../src/index.ts'
import { vectorsDir } from './helpers.ts'

const dir = vectorsDir()
const file = JSON.parse(await readFile(join(dir, 'graphsync-datatransfer-dagcbor.json'), 'utf8'))
const v = file.vectors as Record<string, { hex: string; framedHex?: string }>
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'))
const hex = (b: Uint8Array | Uint8ArrayList) => Buffer.from(b.subarray()).toString('hex')

test('the ExploreAllRecursively selector encodes to the 26 canonical bytes', () => {
  assert.equal(hex(encodeDagCbor(EXPLORE_ALL_RECURSIVELY)), v.selectorExploreAllRecursively.hex)
})

test('every graphsync vector decodes and re-encodes byte-identical, framed too', () => {
  const names = Object.keys(v).filter((n) => n.startsWith('gs'))
  assert.ok(names.length >= 5, 'the vector file has the graphsync messages')
  for (const name of names) {
    const msg = decodeMessage(bytes(v[name].hex))
    assert.equal(hex(encodeMessage(msg)), v[name].hex, name)
    if (v[name].framedHex !== undefined) assert.equal(hex(encodeFrame(encodeMessage(msg))), v[name].framedHex, name)
  }
})

test('the vectors encode byte-identical with block data by reference, framed too', () => {
  for (const name of Object.keys(v).filter((n) => n.startsWith('gs'))) {
    const msg = decodeMessage(bytes(v[name].hex))
    assert.equal(hex(encodeMessageParts(msg)), v[name].hex, name)
    if (v[name].framedHex !== undefined)
      assert.equal(hex(encodeFrame(encodeMessageParts(msg))), v[name].framedHex, name)
  }
})

test('block data by reference: the same bytes as encodeMessage at every CBOR length boundary, data not copied', () => {
  const prefix = Uint8Array.of(0x01, 0x55, 0x12, 0x20)
  const sizes = [0, 1, 23, 24, 255, 256, 65535, 65536, 300_000]
  const blocks = sizes.map((n) => ({ prefix, data: new Uint8Array(n).fill(n % 251) }))
  const meta = blocks.map((_, i) => ({
    link: CID.parse('bafkqaaa'),
    action: i % 2 ? LinkAction.Missing : LinkAction.Present
  }))
  const messages = [
    { blocks },
    { responses: [{ requestId: new Uint8Array(16).fill(1), status: 14, metadata: meta }], blocks },
    {
      requests: [{ id: new Uint8Array(16).fill(9), type: RequestType.Cancel }],
      responses: [{ requestId: new Uint8Array(16).fill(3), status: 20, extensions: { x: Uint8Array.of(1) } }],
      blocks: blocks.slice(0, 30)
    },
    { blocks: Array.from({ length: 300 }, () => blocks[1]) }, // an array head past 255 entries
    { responses: [{ requestId: new Uint8Array(16).fill(4), status: 20 }] } // no blocks at all
  ]
  for (const [i, msg] of messages.entries()) {
    const parts = encodeMessageParts(msg)
    assert.equal(hex(parts), hex(encodeMessage(msg)), `message ${i}`)
    assert.deepEqual(decodeMessage(parts.subarray()).blocks?.length ?? 0, msg.blocks?.length ?? 0)
  }
  const big = encodeMessageParts({ blocks: [blocks.at(-1)!] })
  assert.ok(
    [...big].some((chunk) => chunk === blocks.at(-1)!.data),
    'the block data is in the list as it was'
  )
})

test('the vectors mean what they say: New with data-transfer, partial with a block, cancel', () => {
  const root = CID.parse(file.inputs.rootCid)
  const req = decodeMessage(bytes(v.gsRequestNewWithDataTransfer.hex)).requests![0]
  assert.equal(req.type, RequestType.New)
  assert.equal(hex(req.id), file.inputs.requestIdHex)
  assert.ok(req.root?.equals(root))
  assert.equal(req.priority, undefined)
  assert.deepEqual(req.selector, EXPLORE_ALL_RECURSIVELY)
  assert.ok('fil/data-transfer/1.1' in req.extensions!)

  const partial = decodeMessage(bytes(v.gsResponsePartialWithBlock.hex))
  assert.equal(partial.responses![0].status, 14)
  assert.deepEqual(
    partial.responses![0].metadata!.map((m) => [m.link.toString(), m.action]),
    [[root.toString(), LinkAction.Present]]
  )
  assert.ok('fil/data-transfer/incoming-request/1.1' in partial.responses![0].extensions!)
  const [block] = partial.blocks!
  assert.equal(hex(block.prefix), file.inputs.blockPrefixHex)
  assert.ok(blockCid(block).equals(root), 'the block hashes to the root')

  assert.equal(decodeMessage(bytes(v.gsResponseCompletedFull.hex)).responses![0].status, 20)
  assert.equal(decodeMessage(bytes(v.gsResponseRejected.hex)).responses![0].status, 32)
  const cancel = decodeMessage(bytes(v.gsRequestCancel.hex)).requests![0]
  assert.deepEqual([cancel.type, cancel.root, cancel.selector], [RequestType.Cancel, undefined, undefined])
})

test('keys in any order decode; unknown or missing keys are refused saying where', () => {
  const id = new Uint8Array(16).fill(7)
  // Struct order (cbor-gen) rather than canonical order.
  const node = { gs2: { rsp: [{ stat: 20, reqid: id }] } }
  assert.equal(decodeMessage(encodeDagCbor(node)).responses![0].status, 20)
  assert.throws(
    () => decodeMessage(encodeDagCbor({ gs2: { rsp: [{ reqid: id, stat: 20, extra: 1 }] } })),
    (e: Error) => e instanceof MalformedMessageError && /rsp\[0\].*unknown key "extra"/.test(e.message)
  )
  assert.throws(
    () => decodeMessage(encodeDagCbor({ gs2: { req: [{ id, type: 'n' }] } })),
    (e: Error) => e instanceof MalformedMessageError && /req\[0\]/.test(e.message)
  )
  assert.throws(
    () => decodeMessage(encodeDagCbor({ gs2: { req: [{ id: new Uint8Array(3), type: 'c' }] } })),
    /16 bytes/
  )
  assert.throws(() => decodeMessage(Uint8Array.of(0xff, 0x00)), MalformedMessageError)
  assert.throws(() => decodeMessage(encodeDagCbor({ gs1: {} })), /unknown key "gs1"/)
})

test('blocks hash to their CID from the prefix; a bad prefix is malformed', () => {
  const data = new TextEncoder().encode('hello autoretrieve\n')
  const cid = blockCid({ prefix: Uint8Array.of(0x01, 0x55, 0x12, 0x20), data })
  assert.equal(cid.toString(), 'bafkreidommkdieserxbbcbz24z6nblwdvxlrxnn33pzi6ypi35ckvlr7gm')
  assert.equal(blockCid({ prefix: Uint8Array.of(0x00, 0x70, 0x12, 0x20), data }).version, 0)
  assert.throws(() => blockCid({ prefix: Uint8Array.of(0x01, 0x55, 0x99, 0x01, 0x20), data }), /unsupported multihash/)
  assert.throws(() => blockCid({ prefix: Uint8Array.of(0x01, 0x55), data }), /truncated/)
  // A digest cut short would name other bytes than these: an identity CID of "hel" for all of data.
  assert.throws(() => blockCid({ prefix: Uint8Array.of(0x01, 0x55, 0x00, 0x03), data }), /digest length 3/)
  assert.equal(blockCid({ prefix: Uint8Array.of(0x01, 0x55, 0x00, data.byteLength), data }).multihash.digest, data)
  assert.throws(() => blockCid({ prefix: Uint8Array.of(0x01, 0x55, 0x12, 0x14), data }), /digest length 20/)
})

test('frames split at every byte boundary reassemble; a length over 4 MiB is refused before buffering', async () => {
  const a = encodeMessage({ responses: [{ requestId: new Uint8Array(16), status: 14 }] })
  const b = encodeMessage({ responses: [{ requestId: new Uint8Array(16).fill(1), status: 20 }] })
  const wire = new Uint8ArrayList(encodeFrame(a), encodeFrame(b)).subarray()
  for (let cut = 0; cut <= wire.byteLength; cut++) {
    const chunks = [wire.subarray(0, cut), wire.subarray(cut)]
    const frames: Uint8Array[] = []
    for await (const f of readFrames(
      (async function* () {
        yield* chunks
      })()
    ))
      frames.push(f)
    assert.deepEqual(frames.map(hex), [hex(a), hex(b)], `cut at ${cut}`)
  }
  const huge = Uint8Array.of(0x81, 0x80, 0x80, 0x02) // 4 MiB + 1
  await assert.rejects(async () => {
    for await (const _ of readFrames(
      (async function* () {
        yield huge
      })()
    ))
      void _
  }, MessageTooLargeError)
  await assert.rejects(
    async () => {
      for await (const _ of readFrames(
        (async function* () {
          yield wire.subarray(0, wire.byteLength - 1)
        })()
      ))
        void _
    },
    (e: Error) =>
      e instanceof MalformedMessageError &&
      e.code === 'ERR_GRAPHSYNC_MALFORMED_MESSAGE' &&
      /ended inside/.test(e.message)
  )
})

test('text strings that are not UTF-8 survive decode and encode byte for byte', () => {
  const peerBytes = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20, 0xff, 0xfe)
  const enc = encodeDagCbor(['', new BinaryString(peerBytes), 'ok'])
  const dec = decodeDagCbor(enc) as unknown[]
  assert.ok(dec[1] instanceof BinaryString)
  assert.deepEqual((dec[1] as BinaryString).bytes, peerBytes)
  assert.equal(dec[2], 'ok')
  assert.equal(hex(encodeDagCbor(dec)), hex(enc))
})
