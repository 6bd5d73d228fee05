import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { uvarintBytes } from '@autoretrieve/frames'
import {
  carOf,
  createUnixfsFixture,
  type GoResponder,
  pseudoRandomBytes,
  startGoResponder,
  startIndexer,
  type UnixfsFixture
} from '@autoretrieve/testkit'
import { CarBlockIterator } from '@ipld/car/iterator'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { identity } from 'multiformats/hashes/identity'
import { sha256 } from 'multiformats/hashes/sha2'
import { catFile, cliEnv, heliaClient, runCli, startDaemon, tempDataDir } from './helpers.ts'

// Interop with the Go reference implementations: the node retrieves over Graphsync 2.0.0 with a
// free data-transfer deal from a provider built on go-graphsync v0.17.0 and go-data-transfer
// v2.0.0-rc8 (packages/testkit/go/graphsync-responder), listed by the indexer stand-in as a
// graphsync (0x0910) provider. Go is required: without it these tests fail, they do not skip.

type After = { after(fn: () => Promise<unknown>): void }

async function goResponder(t: After, cars: Uint8Array[], reject?: string): Promise<GoResponder> {
  const r = await startGoResponder({ cars, reject })
  t.after(() => r.close())
  return r
}

const graphsyncRecord = (r: GoResponder) => ({
  peerId: r.peerId,
  addrs: r.multiaddrs,
  protocols: ['graphsync' as const],
  graphsync: { verifiedDeal: true, fastRetrieval: true }
})

async function startNode(t: After, responder: GoResponder, configYaml?: string) {
  const indexer = await startIndexer({ providers: [graphsyncRecord(responder)] })
  t.after(() => indexer.close())
  const dataDir = await tempDataDir(t)
  if (configYaml !== undefined) {
    await mkdir(dataDir, { recursive: true })
    await writeFile(join(dataDir, 'config.yaml'), configYaml)
  }
  return startDaemon(t, dataDir, cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url }))
}

/** Transfer IDs whose channel the Go responder saw reach `status` (from its --verbose log). */
function channelsIn(r: GoResponder, status: string): Set<string> {
  const ids = new Set<string>()
  for (const m of r.stderr().matchAll(/^channel (\d+): \w+ \((\w+)\)/gm)) if (m[2] === status) ids.add(m[1])
  return ids
}

async function waitFor(what: string, check: () => boolean, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('the node retrieves a DAG over graphsync from the Go responder and a Helia client gets the file', async (t) => {
  const fixture = await createUnixfsFixture({ size: 3 * 1024 * 1024, chunkSize: 256 * 1024, seed: 1701 })
  const responder = await goResponder(t, [fixture.car])
  const node = await startNode(t, responder)
  assert.deepEqual(
    await catFile(await heliaClient(t, node.multiaddrs), fixture.root, 60_000),
    Buffer.from(fixture.bytes)
  )
  assert.match(responder.stderr(), /: accepted$/m)
  // go-data-transfer finalizes the channel with a Completed deal response the node must take.
  await waitFor('the channel completes on the Go side', () => channelsIn(responder, 'Completed').size === 1)
  const metrics = await (await fetch(`${node.adminUrl}/metrics`)).text()
  assert.match(metrics, /^autoretrieve_retrieval_protocol_success_total\{protocol="graphsync"\} 1$/m)
})

test('ten distinct roots retrieved at once over graphsync from the Go responder all complete', async (t) => {
  const fixtures: UnixfsFixture[] = []
  for (let i = 0; i < 10; i++)
    fixtures.push(await createUnixfsFixture({ size: 2 * 1024 * 1024, chunkSize: 256 * 1024, seed: 1710 + i }))
  const responder = await goResponder(
    t,
    fixtures.map((f) => f.car)
  )
  // The Go default allows one retrieval per provider at a time; let all ten run together.
  const node = await startNode(t, responder, 'default-miner-config:\n  max-concurrent-retrievals: 10\n')
  const clients = [await heliaClient(t, node.multiaddrs), await heliaClient(t, node.multiaddrs)]
  const got = await Promise.all(fixtures.map((f, i) => catFile(clients[i % 2], f.root, 120_000)))
  for (const [i, f] of fixtures.entries()) assert.deepEqual(got[i], Buffer.from(f.bytes), `root ${i}`)
  assert.equal(responder.stderr().match(/: accepted$/gm)?.length, 10, 'one deal per root')
  await waitFor('all ten channels complete on the Go side', () => channelsIn(responder, 'Completed').size === 10)
})

test("a deal the Go responder rejects fails as `rejected` with the provider's words", async (t) => {
  const fixture = await createUnixfsFixture({ size: 300_000, chunkSize: 100_000, seed: 1720 })
  const words = 'no retrievals from this provider today, come back tomorrow'
  const responder = await goResponder(t, [fixture.car], words)
  const res = await runCli(
    [
      '--data-dir',
      await tempDataDir(t),
      'fetch',
      fixture.root.toString(),
      '--provider',
      responder.multiaddrs[0],
      '--protocol',
      'graphsync',
      '-o',
      '/dev/null'
    ],
    cliEnv(),
    60_000
  )
  assert.notEqual(res.code, 0, 'the fetch fails')
  // The fetch command prints each failed attempt as `<protocol> <provider>: <errorClass>: <message>`.
  const attempt = res.stderr.split('\n').find((l) => l.startsWith(`graphsync ${responder.peerId}: `))
  assert.ok(attempt, res.stderr)
  assert.match(attempt, /: rejected: /)
  assert.ok(attempt.includes(words), `the provider's words are kept: ${attempt}`)
  assert.match(responder.stderr(), /: rejected$/m)
})

test('`fetch` writes the whole DAG it retrieved over graphsync from the Go responder', async (t) => {
  const fixture = await createUnixfsFixture({ size: 1_500_000, chunkSize: 250_000, seed: 1730 })
  const responder = await goResponder(t, [fixture.car])
  const dataDir = await tempDataDir(t)
  const out = join(dataDir, '..', 'out.car')
  const args = ['fetch', fixture.root.toString(), '--provider', responder.multiaddrs[0], '--protocol', 'graphsync']
  const res = await runCli(['--data-dir', dataDir, ...args, '-o', out], cliEnv(), 60_000)
  assert.equal(res.code, 0, res.stderr)
  const cids: string[] = []
  for await (const b of await CarBlockIterator.fromBytes(await readFile(out))) cids.push(b.cid.toString())
  assert.deepEqual(
    cids,
    fixture.blocks.map((b) => b.cid.toString())
  )
  assert.equal(JSON.parse(res.stderr.trim().split('\n').at(-1) ?? '').protocol, 'graphsync')
})

/**
 * A UnixFS file whose root links the given raw leaves in order, repeats included: the shapes a
 * chunker cannot be asked for (the same chunk twice in one file, the same chunks in several files)
 * and that go-graphsync's de-duplication treats specially.
 */
async function fileOfLeaves(leaves: Uint8Array[]) {
  const links: dagPb.PBLink[] = []
  const blocks = new Map<string, { cid: CID; bytes: Uint8Array }>()
  for (const bytes of leaves) {
    const cid = CID.createV1(raw.code, await sha256.digest(bytes))
    links.push({ Hash: cid, Name: '', Tsize: bytes.length })
    blocks.set(cid.toString(), { cid, bytes })
  }
  // UnixFS Data: Type File (field 1 = 2), filesize (field 3), one blocksize per link (field 4).
  const size = leaves.reduce((a, l) => a + l.length, 0)
  const data = Uint8Array.from([
    0x08,
    0x02,
    0x18,
    ...uvarintBytes(size),
    ...leaves.flatMap((l) => [0x20, ...uvarintBytes(l.length)])
  ])
  const rootBytes = dagPb.encode(dagPb.prepare({ Data: data, Links: links }))
  const root = CID.createV1(dagPb.code, await sha256.digest(rootBytes))
  const all = [{ cid: root, bytes: rootBytes }, ...blocks.values()]
  return { root, bytes: Buffer.concat(leaves), car: await carOf(root, all), blocks: all }
}

test('a DAG that links the same block several times comes through from the Go responder', async (t) => {
  const chunk = pseudoRandomBytes(256 * 1024, 1740)
  const other = pseudoRandomBytes(256 * 1024, 1741)
  const file = await fileOfLeaves([chunk, other, chunk, chunk, other])
  const responder = await goResponder(t, [file.car])
  const node = await startNode(t, responder)
  assert.deepEqual(await catFile(await heliaClient(t, node.multiaddrs), file.root, 60_000), file.bytes)
})

test('ten files sharing most of their blocks, retrieved at once from the Go responder, all complete', async (t) => {
  // go-graphsync sends a block once per peer across the requests in progress and only names it
  // ("p" without the bytes) in the others.
  const shared = [0, 1, 2, 3].map((i) => pseudoRandomBytes(256 * 1024, 1750 + i))
  const files = []
  for (let i = 0; i < 10; i++) files.push(await fileOfLeaves([...shared, pseudoRandomBytes(64 * 1024, 1760 + i)]))
  const responder = await goResponder(
    t,
    files.map((f) => f.car)
  )
  const node = await startNode(t, responder, 'default-miner-config:\n  max-concurrent-retrievals: 10\n')
  const clients = [await heliaClient(t, node.multiaddrs), await heliaClient(t, node.multiaddrs)]
  const got = await Promise.all(files.map((f, i) => catFile(clients[i % 2], f.root, 120_000)))
  for (const [i, f] of files.entries()) assert.deepEqual(got[i], f.bytes, `file ${i}`)
})

/** `autoretrieve fetch` of `root` from the Go responder over graphsync, into a scratch data dir. */
async function fetchFromGo(t: After, responder: GoResponder, root: CID, out = '/dev/null') {
  const args = ['fetch', root.toString(), '--provider', responder.multiaddrs[0], '--protocol', 'graphsync', '-o', out]
  return runCli(['--data-dir', await tempDataDir(t), ...args], cliEnv(), 60_000)
}

test('blocks over 512 KiB (one a graphsync message) come through from the Go responder', async (t) => {
  const fixture = await createUnixfsFixture({ size: 4 * 1024 * 1024, chunkSize: 1024 * 1024, seed: 1770 })
  const responder = await goResponder(t, [fixture.car])
  const res = await fetchFromGo(t, responder, fixture.root)
  assert.equal(res.code, 0, res.stderr)
  assert.equal(JSON.parse(res.stderr.trim().split('\n').at(-1) ?? '').blocks, fixture.blocks.length)
})

test('a DAG the Go responder holds only in part fails as incomplete, naming the missing block', async (t) => {
  const fixture = await createUnixfsFixture({ size: 1024 * 1024, chunkSize: 256 * 1024, seed: 1780 })
  const [root, ...leaves] = fixture.blocks
  const gone = leaves[2]
  const responder = await goResponder(t, [await carOf(fixture.root, [root, ...leaves.filter((b) => b !== gone)])])
  const res = await fetchFromGo(t, responder, fixture.root)
  assert.notEqual(res.code, 0)
  const attempt = res.stderr.split('\n').find((l) => l.startsWith(`graphsync ${responder.peerId}: `))
  assert.ok(attempt, res.stderr)
  // Go answers the hole with a Missing ("m") link and goes on with the next leaf: the provider
  // lacks data, it did not stray from the selector (not unexpected_block).
  assert.match(attempt, /: incomplete: /)
  assert.ok(attempt.includes(gone.cid.toString()), attempt)
})

test('a DAG of 192 MiB comes through from the Go responder, which sends faster than the node writes', async (t) => {
  // Go writes as fast as the connection takes it; the node must slow it down (stop reading)
  // rather than hold the DAG in memory or call the responder a flood.
  const fixture = await createUnixfsFixture({ size: 192 * 1024 * 1024, chunkSize: 256 * 1024, seed: 1790 })
  const responder = await goResponder(t, [fixture.car])
  const res = await fetchFromGo(t, responder, fixture.root)
  assert.equal(res.code, 0, res.stderr)
  const bytes = fixture.blocks.reduce((a, b) => a + b.bytes.byteLength, 0)
  assert.equal(JSON.parse(res.stderr.trim().split('\n').at(-1) ?? '').bytes, bytes)
})

test('a dag-cbor DAG is walked in the order Go walks it (map keys as encoded, not as JavaScript orders them)', async (t) => {
  // Canonical DAG-CBOR puts "a" before "10" (shorter key first); a JavaScript object lists
  // integer-like keys first. go-graphsync sends the blocks in encoded order.
  const leaves = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const bytes = pseudoRandomBytes(1000, 1800 + i)
      return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
    })
  )
  const rootBytes = dagCbor.encode({ a: leaves[0].cid, 10: leaves[1].cid, list: [leaves[2].cid] })
  const root = CID.createV1(dagCbor.code, await sha256.digest(rootBytes))
  const responder = await goResponder(t, [await carOf(root, [{ cid: root, bytes: rootBytes }, ...leaves])])
  const out = join(await tempDataDir(t), '..', 'out.car')
  const res = await fetchFromGo(t, responder, root, out)
  assert.equal(res.code, 0, res.stderr)
  const cids: string[] = []
  for await (const b of await CarBlockIterator.fromBytes(await readFile(out))) cids.push(b.cid.toString())
  assert.deepEqual(cids, [root, ...leaves.map((l) => l.cid)].map(String))
})

test('a DAG linking an identity-hash block comes through from the Go responder', async (t) => {
  // go-graphsync (>= 0.15.1) sends identity blocks as ordinary blocks; Kubo inlines small leaves so.
  const inline = new TextEncoder().encode('an inlined leaf')
  const identityCid = CID.createV1(raw.code, identity.digest(inline))
  const leaf = pseudoRandomBytes(4096, 1810)
  const file = await fileOfLeaves([leaf])
  const rootBytes = dagPb.encode(
    dagPb.prepare({
      Links: [
        { Hash: identityCid, Name: 'inline', Tsize: inline.length },
        { Hash: file.root, Name: 'file', Tsize: leaf.length }
      ]
    })
  )
  const root = CID.createV1(dagPb.code, await sha256.digest(rootBytes))
  const blocks = [{ cid: root, bytes: rootBytes }, { cid: identityCid, bytes: inline }, ...file.blocks]
  const responder = await goResponder(t, [await carOf(root, blocks)])
  const out = join(await tempDataDir(t), '..', 'out.car')
  const res = await fetchFromGo(t, responder, root, out)
  assert.equal(res.code, 0, res.stderr)
  const cids: string[] = []
  for await (const b of await CarBlockIterator.fromBytes(await readFile(out))) cids.push(b.cid.toString())
  assert.deepEqual(new Set(cids), new Set(blocks.map((b) => b.cid.toString())))
})

test('a second retrieval from the Go responder after 12 s idle succeeds (Go resets streams silent for 10 s)', async (t) => {
  const fixtures = [
    await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 1820 }),
    await createUnixfsFixture({ size: 600_000, chunkSize: 200_000, seed: 1821 })
  ]
  const responder = await goResponder(
    t,
    fixtures.map((f) => f.car)
  )
  const node = await startNode(t, responder)
  const client = await heliaClient(t, node.multiaddrs)
  assert.deepEqual(await catFile(client, fixtures[0].root, 60_000), Buffer.from(fixtures[0].bytes))
  await new Promise((r) => setTimeout(r, 12_000))
  assert.deepEqual(await catFile(client, fixtures[1].root, 60_000), Buffer.from(fixtures[1].bytes))
  await waitFor('both channels complete on the Go side', () => channelsIn(responder, 'Completed').size === 2)
})
