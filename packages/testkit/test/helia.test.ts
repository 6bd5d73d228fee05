import assert from 'node:assert/strict'
import { test } from 'node:test'
import { unixfs } from '@helia/unixfs'
import { CarBlockIterator } from '@ipld/car/iterator'
import { createHeliaPeer, createUnixfsFixture } from '../src/index.ts'

test('a fixture is deterministic and its CAR carries every block in DFS order', async () => {
  const a = await createUnixfsFixture({ size: 1_000_000, chunkSize: 65_536 })
  const b = await createUnixfsFixture({ size: 1_000_000, chunkSize: 65_536 })
  assert.equal(a.root.toString(), b.root.toString())
  const fromCar: string[] = []
  const iter = await CarBlockIterator.fromBytes(a.car)
  assert.deepEqual((await iter.getRoots()).map(String), [a.root.toString()])
  for await (const block of iter) fromCar.push(block.cid.toString())
  assert.deepEqual(
    fromCar,
    a.blocks.map((x) => x.cid.toString())
  )
  assert.equal(fromCar[0], a.root.toString())
})

test('two Helia peers on loopback exchange a file over Bitswap (the client the suite relies on)', async (t) => {
  const server = await createHeliaPeer({ listen: true })
  const client = await createHeliaPeer()
  t.after(async () => {
    await client.stop()
    await server.stop()
  })
  const fixture = await createUnixfsFixture({ size: 600_000, chunkSize: 100_000 })
  for (const { cid, bytes } of fixture.blocks) await server.blockstore.put(cid, bytes)
  await client.libp2p.dial(server.libp2p.getMultiaddrs()[0])
  const parts: Uint8Array[] = []
  for await (const chunk of unixfs(client).cat(fixture.root, { signal: AbortSignal.timeout(20_000) })) parts.push(chunk)
  assert.deepEqual(Buffer.concat(parts), Buffer.from(fixture.bytes))
})
