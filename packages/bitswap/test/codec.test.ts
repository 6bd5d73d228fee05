import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { encodeFrame } from '@autoretrieve/frames'
import { testVectorsDir } from '@autoretrieve/testkit'
import { CID } from 'multiformats/cid'
import { cidFromPrefix, decodeMessage, encodeMessage, PresenceType, WantType } from '../src/codec.ts'

const dir = testVectorsDir()
const vectors = JSON.parse(await readFile(join(dir, 'bitswap-protobuf.json'), 'utf8'))
const cid = CID.parse(vectors.inputs.cid)
const block = Buffer.from(vectors.inputs.blockHex, 'hex')
const hex = (l: { subarray(): Uint8Array }) => Buffer.from(l.subarray()).toString('hex')

test('client wants decode as the vectors describe', () => {
  const have = decodeMessage(Buffer.from(vectors.vectors.wantHaveSendDontHave.hex, 'hex'))
  assert.equal(have.wantlist?.full, false)
  const [e] = have.wantlist!.entries
  assert.equal(CID.decode(e.block).toString(), cid.toString())
  assert.deepEqual([e.priority, e.wantType, e.sendDontHave, e.cancel], [1, WantType.Have, true, false])
  const want = decodeMessage(Buffer.from(vectors.vectors.wantBlockSendDontHave.hex, 'hex')).wantlist!.entries[0]
  assert.equal(want.wantType, WantType.Block)
  const cancel = decodeMessage(Buffer.from(vectors.vectors.cancel.hex, 'hex')).wantlist!.entries[0]
  assert.equal(cancel.cancel, true)
})

test('every vector re-encodes byte-identical, framed too', () => {
  const v = vectors.vectors
  assert.equal(
    hex(encodeMessage({ wantlist: { entries: [{ cid, priority: 1, wantType: WantType.Have, sendDontHave: true }] } })),
    v.wantHaveSendDontHave.hex
  )
  assert.equal(
    hex(encodeMessage({ wantlist: { entries: [{ cid, priority: 1, sendDontHave: true }] } })),
    v.wantBlockSendDontHave.hex
  )
  assert.equal(hex(encodeMessage({ wantlist: { entries: [{ cid, cancel: true }] } })), v.cancel.hex)
  assert.equal(hex(encodeMessage({ presences: [{ cid, type: PresenceType.Have }] })), v.serverHave.hex)
  assert.equal(hex(encodeMessage({ presences: [{ cid, type: PresenceType.DontHave }] })), v.serverDontHave.hex)
  assert.equal(hex(encodeMessage({ blocks: [{ cid, bytes: block }] })), v.serverBlock.hex)
  assert.equal(
    hex(encodeMessage({ blocks: [{ cid, bytes: block }], pendingBytes: 1024 })),
    v.serverBlockWithPendingBytes.hex
  )
  assert.equal(hex(encodeMessage({ blocks: [{ cid, bytes: block }] }, 'v0')), v.serverBlockV100.hex)
  assert.equal(hex(encodeFrame(encodeMessage({ blocks: [{ cid, bytes: block }] }))), v.serverBlock.framedHex)
})

test('a server block decodes back to a verified CID from its prefix', () => {
  const msg = decodeMessage(Buffer.from(vectors.vectors.serverBlockWithPendingBytes.hex, 'hex'))
  assert.equal(msg.pendingBytes, 1024)
  const [{ prefix, data }] = msg.payload
  assert.equal(cidFromPrefix(prefix, data).toString(), cid.toString())
})

test('negative priorities round-trip as 10-byte int32 varints', () => {
  const msg = decodeMessage(encodeMessage({ wantlist: { entries: [{ cid, priority: -5 }] } }).subarray())
  assert.equal(msg.wantlist!.entries[0].priority, -5)
})

test('garbage is a MalformedMessageError, never a crash', () => {
  for (const bad of ['0a', '0aff', '0a05ffffffffff', 'ffffffffffffffffffffff', '0f00', '0a021a05']) {
    assert.throws(() => decodeMessage(Buffer.from(bad, 'hex')), { name: 'MalformedMessageError' }, bad)
  }
})

test('a wantlist past the cap keeps the cap and counts the rest', () => {
  const entries = Array.from({ length: 50 }, () => ({ cid }))
  const msg = decodeMessage(encodeMessage({ wantlist: { entries } }).subarray(), { maxEntries: 10 })
  assert.equal(msg.wantlist!.entries.length, 10)
  assert.equal(msg.droppedEntries, 40)
})
