import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PresenceType } from '../src/codec.ts'
import { BLOCK_OVERHEAD, entrySize, type PackEntry, PRESENCE_OVERHEAD, packMessages } from '../src/pack.ts'

async function block(n: number, size: number): Promise<PackEntry & { kind: 'block' }> {
  const bytes = new Uint8Array(size).fill(n % 256)
  bytes[0] = n >> 8
  return { kind: 'block', cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

async function presence(n: number, kind: 'have' | 'dont-have' = 'have'): Promise<PackEntry> {
  return { kind, cid: CID.createV1(raw.code, await sha256.digest(Uint8Array.of(n >> 8, n & 0xff))) }
}

/** Which input entries each message carries, by index. */
const layout = (input: PackEntry[], messages: Array<{ entries: PackEntry[] }>) =>
  messages.map((m) => m.entries.map((e) => input.indexOf(e)))

test('no entries pack into no messages', () => {
  assert.deepEqual(packMessages([], 4 * 1024 * 1024), [])
})

test('entries that add up to exactly the target share one message; one byte more starts the next', async () => {
  const a = await block(1, 1000)
  const b = await block(2, 500)
  const have = await presence(3)
  const target = entrySize(a) + entrySize(b) + entrySize(have)
  assert.equal(target, 1000 + 500 + 2 * BLOCK_OVERHEAD + have.cid.bytes.byteLength + PRESENCE_OVERHEAD)
  const exact = packMessages([a, b, have], target)
  assert.equal(exact.length, 1)
  assert.equal(exact[0].size, target)
  const over = packMessages([a, b, have], target - 1)
  assert.deepEqual(layout([a, b, have], over), [[0, 1], [2]])
})

test('a block bigger than the target goes alone in a message of its own, whole', async () => {
  const small = await block(1, 100)
  const big = await block(2, 10_000)
  const after = await block(3, 100)
  const input = [small, big, after]
  const messages = packMessages(input, 1_000)
  assert.deepEqual(layout(input, messages), [[0], [1], [2]])
  assert.equal(messages[1].blocks.length, 1)
  assert.equal(messages[1].blocks[0].bytes.byteLength, 10_000, 'never split')
  // First in line, it still goes alone: nothing joins a message already past the target.
  assert.deepEqual(layout([big, small], packMessages([big, small], 1_000)), [[0], [1]])
})

test('many presences fill messages up to the target, none lost', async () => {
  const input = await Promise.all(Array.from({ length: 1000 }, (_, i) => presence(i, i % 2 ? 'have' : 'dont-have')))
  const each = entrySize(input[0])
  const perMessage = 100
  const messages = packMessages(input, each * perMessage)
  assert.equal(messages.length, 10)
  for (const m of messages) {
    assert.equal(m.presences.length, perMessage)
    assert.equal(m.blocks.length, 0)
    assert.ok(m.size <= each * perMessage)
  }
  // With the default target, a full 1024-entry wantlist of answers is one message.
  assert.equal(packMessages(input, 4 * 1024 * 1024 - 64 * 1024).length, 1)
})

test('order is kept within and across messages; presences keep their type', async () => {
  const input = [
    await block(1, 300),
    await presence(2, 'dont-have'),
    await block(3, 300),
    await presence(4, 'have'),
    await block(5, 300),
    await presence(6, 'dont-have')
  ]
  // Room for two blocks and a presence: the third entry fills the first message exactly.
  const messages = packMessages(input, 2 * entrySize(input[0]) + entrySize(input[1]))
  assert.deepEqual(layout(input, messages), [
    [0, 1, 2],
    [3, 4, 5]
  ])
  assert.deepEqual(
    messages.flatMap((m) => m.blocks.map((b) => b.cid.toString())),
    [input[0], input[2], input[4]].map((e) => e.cid.toString())
  )
  assert.deepEqual(
    messages.flatMap((m) => m.presences.map((p) => [p.cid.toString(), p.type])),
    [
      [input[1].cid.toString(), PresenceType.DontHave],
      [input[3].cid.toString(), PresenceType.Have],
      [input[5].cid.toString(), PresenceType.DontHave]
    ]
  )
})

test('the Helia-sized case: 32 blocks of 256 KiB under the 4 MiB target go 15, 15, 2', async () => {
  const input = await Promise.all(Array.from({ length: 32 }, (_, i) => block(i, 256 * 1024)))
  const messages = packMessages(input, 4 * 1024 * 1024 - 64 * 1024)
  assert.deepEqual(
    messages.map((m) => m.blocks.length),
    [15, 15, 2]
  )
})
