// Interop with kubo, the Go reference IPFS node (pinned in packages/testkit/go/kubo), on loopback:
// kubo fetches what our node caches, over TCP and WebSockets; our node retrieves from kubo over
// Bitswap and from kubo's trustless gateway over HTTP. Needs Go (the kit builds kubo once into a
// cache): without it these tests fail, saying so.
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  type IndexerProviderRecord,
  type KuboPeer,
  pseudoRandomBytes,
  startIndexer,
  startKubo,
  testVectorsDir
} from '@autoretrieve/testkit'
import { CarReader } from '@ipld/car/reader'
import { cliEnv, type DaemonHandle, importCarViaNode, startDaemon, tempDataDir } from './helpers.ts'

type After = { after(fn: () => Promise<unknown>): void }

async function kubo(t: After): Promise<KuboPeer> {
  const k = await startKubo()
  t.after(() => k.stop())
  return k
}

/** Runs ipfs on a kubo peer; it must succeed. */
async function ipfs(k: KuboPeer, args: string[], input?: Uint8Array, timeoutMs = 60_000): Promise<Buffer> {
  const res = await k.ipfs(args, { input, timeoutMs })
  assert.equal(res.code, 0, `ipfs ${args.join(' ')} failed:\n${res.stderr}\n--- daemon:\n${k.output().slice(-2000)}`)
  return res.stdout
}

async function startNode(t: After, extra: Record<string, string> = {}): Promise<DaemonHandle> {
  return startDaemon(t, await tempDataDir(t), cliEnv(extra))
}

/** Every block of a CAR as cid -> hex bytes, to compare two CARs by their blocks. */
async function blocksOf(car: Uint8Array): Promise<Map<string, string>> {
  const reader = await CarReader.fromBytes(car)
  const out = new Map<string, string>()
  for await (const { cid, bytes } of reader.blocks()) out.set(cid.toString(), Buffer.from(bytes).toString('hex'))
  return out
}

async function rootOf(car: Uint8Array): Promise<string> {
  const [root] = await (await CarReader.fromBytes(car)).getRoots()
  return root.toString()
}

/** A DAG the node will serve: its root, its CAR, and files under it with their bytes. */
interface Case {
  name: string
  root: string
  car: Uint8Array
  files: Array<{ path: string; bytes: Uint8Array }>
}

// The source kubo builds the UnixFS DAGs with its own importer (`ipfs add`) and exports them as
// CARs; it is never connected to the kubo clients, which can only get blocks from our node.
let source: KuboPeer
const cases: Case[] = []

before(async () => {
  source = await startKubo()
  const add = async (name: string, bytes: Uint8Array, flags: string[]) => {
    const root = (await ipfs(source, ['add', '-Q', ...flags], bytes)).toString().trim()
    cases.push({ name, root, car: await ipfs(source, ['dag', 'export', root]), files: [{ path: root, bytes }] })
  }
  await add('UnixFS file, CIDv1, raw leaves, 5 chunks', pseudoRandomBytes(1_200_000, 71), [
    '--cid-version=1',
    '--raw-leaves',
    '--chunker=size-262144'
  ])
  await add('UnixFS file, CIDv0, dag-pb leaves', pseudoRandomBytes(700_000, 72), ['--cid-version=0'])

  // A directory whose small file is inlined as an identity CID (`--inline`): the client resolves
  // that link itself, every other block comes from our node.
  const dir = await mkdtemp(join(tmpdir(), 'autoretrieve-interop-'))
  const big = pseudoRandomBytes(300_000, 73)
  const tiny = new TextEncoder().encode('tiny file, inlined\n')
  try {
    await mkdir(join(dir, 'd'))
    await writeFile(join(dir, 'd', 'big.bin'), big)
    await writeFile(join(dir, 'd', 'tiny.txt'), tiny)
    const flags = ['add', '-Q', '-r', '--cid-version=1', '--inline', '--inline-limit=64', join(dir, 'd')]
    const root = (await ipfs(source, flags)).toString().trim()
    const tinyCid = (await ipfs(source, ['resolve', '-r', `/ipfs/${root}/tiny.txt`])).toString().trim()
    assert.ok(tinyCid.startsWith('/ipfs/bafkqa'), `tiny.txt is an identity CID: ${tinyCid}`)
    cases.push({
      name: 'UnixFS directory linking an identity CID',
      root,
      car: await ipfs(source, ['dag', 'export', root]),
      files: [
        { path: `${root}/tiny.txt`, bytes: tiny },
        { path: `${root}/big.bin`, bytes: big }
      ]
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  for (const [name, file] of [
    ['HAMT-sharded directory (gateway-conformance vector)', 'single-layer-hamt-with-multi-block-files.car'],
    ['DAG-CBOR blocks linking each other (gateway-conformance vector)', 'dag-cbor-traversal.car']
  ]) {
    const car = await readFile(join(testVectorsDir(), 'car', file))
    cases.push({ name, root: await rootOf(car), car, files: [] })
  }
})

after(() => source?.stop())

/** kubo fetches every case from our node over one transport, byte for byte. */
async function serveOver(t: After, transport: 'tcp' | 'ws') {
  const node = await startNode(t)
  for (const c of cases) await importCarViaNode(node, c.car)
  const client = await kubo(t)
  const addr = node.multiaddrs.find((a) => a.includes('/ws') === (transport === 'ws'))
  assert.ok(addr, `the node listens on ${transport}: ${node.multiaddrs.join(', ')}`)
  await ipfs(client, ['swarm', 'connect', addr])
  const peers = (await ipfs(client, ['swarm', 'peers'])).toString()
  const line = peers.split('\n').find((l) => l.endsWith(node.peerId))
  assert.ok(line, `kubo lists our node as a peer:\n${peers}`)
  assert.equal(line.includes('/ws'), transport === 'ws', `connected over ${transport}: ${line}`)

  for (const c of cases) {
    for (const file of c.files) {
      const got = await ipfs(client, ['cat', file.path], undefined, 30_000)
      assert.ok(Buffer.from(file.bytes).equals(got), `${c.name}: ipfs cat ${file.path} returned other bytes`)
    }
    const exported = await ipfs(client, ['dag', 'export', c.root], undefined, 30_000)
    assert.deepEqual(await blocksOf(exported), await blocksOf(c.car), `${c.name}: the exported DAG differs`)
  }
  // Only our node could have sent them: it is kubo's only peer.
  assert.equal((await ipfs(client, ['swarm', 'peers'])).toString().trim().split('\n').length, 1)
}

test('kubo fetches cached DAGs from the node over TCP: raw leaves, CIDv0, identity links, HAMT, DAG-CBOR', async (t) => {
  await serveOver(t, 'tcp')
})

test('kubo fetches cached DAGs from the node over WebSockets', async (t) => {
  await serveOver(t, 'ws')
})

/** Samples of the node's Prometheus text, by series name with labels. */
async function metrics(node: DaemonHandle): Promise<Map<string, number>> {
  const text = await (await fetch(`${node.adminUrl}/metrics`)).text()
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (m) samples.set(m[1], Number(m[2]))
  }
  return samples
}

/** A miss the node retrieves from kubo (listed by the indexer stand-in), asked for by a second kubo. */
async function missFromKubo(
  t: After,
  protocol: 'bitswap' | 'http',
  seed: number,
  addFlags: string[],
  size = 1_500_000
) {
  const bytes = pseudoRandomBytes(size, seed)
  const root = (await ipfs(source, ['add', '-Q', ...addFlags], bytes)).toString().trim()
  const record: IndexerProviderRecord = {
    peerId: source.peerId,
    addrs: protocol === 'http' ? [source.gatewayMultiaddr] : source.multiaddrs.filter((a) => !a.includes('/ws')),
    protocols: [protocol],
    cids: [root]
  }
  const indexer = await startIndexer({ providers: [record] })
  t.after(() => indexer.close())
  const node = await startNode(t, { AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url })
  const client = await kubo(t)
  await ipfs(client, ['swarm', 'connect', node.multiaddrs.find((a) => !a.includes('/ws'))!])
  const got = await ipfs(client, ['cat', root], undefined, 60_000)
  assert.ok(Buffer.from(bytes).equals(got), 'kubo got the file through our node')
  const samples = await metrics(node)
  assert.equal(samples.get(`autoretrieve_retrieval_protocol_success_total{protocol="${protocol}"}`), 1)
  // The DAG is cached now, whole: the client's export matches the source's.
  const want = await blocksOf(await ipfs(source, ['dag', 'export', root]))
  assert.deepEqual(await blocksOf(await ipfs(client, ['dag', 'export', root])), want)
}

test('the node retrieves a miss from kubo over Bitswap and serves it to another kubo', async (t) => {
  // 20 MiB: 80 leaves, past the 64 inbound streams kubo's one-stream-per-message sending needs
  // (the node stalled at the 65th block while it left those streams half-open).
  await missFromKubo(t, 'bitswap', 81, ['--cid-version=1', '--raw-leaves'], 20 * 2 ** 20)
})

test('the node retrieves a CIDv0 miss from kubo over Bitswap', async (t) => {
  await missFromKubo(t, 'bitswap', 82, ['--cid-version=0'])
})

test("the node retrieves a miss from kubo's trustless gateway over HTTP", async (t) => {
  await missFromKubo(t, 'http', 83, ['--cid-version=1', '--raw-leaves'])
})

test("the node retrieves a CIDv0 miss from kubo's trustless gateway over HTTP", async (t) => {
  await missFromKubo(t, 'http', 84, ['--cid-version=0'])
})

// boxo answers a want-have with the block itself when the block is at most 1024 bytes
// (DefaultWantHaveReplaceSize, boxo bitswap/internal/defaults/defaults.go; engine.go), which saves
// kubo a round trip per small block: kubo's `dag export` of the HAMT vector (243 blocks, mostly
// a few hundred bytes, fetched one by one) took 10.7 s from this node against 5.5 s from a kubo,
// and 5.5 s from this node once it answered as boxo does (packages/bitswap WANT_HAVE_REPLACE_SIZE).
test("answers kubo's want-have for a block of at most 1024 bytes with the block, as boxo does", async (t) => {
  const node = await startNode(t)
  const car = await readFile(join(testVectorsDir(), 'car', 'single-layer-hamt-with-multi-block-files.car'))
  await importCarViaNode(node, car)
  const client = await kubo(t)
  await ipfs(client, ['swarm', 'connect', node.multiaddrs.find((a) => !a.includes('/ws'))!])
  await ipfs(client, ['dag', 'export', await rootOf(car)], undefined, 60_000)
  const large = [...(await blocksOf(car)).values()].filter((hex) => hex.length / 2 > 1024).length
  let haves = 0
  for (const [series, value] of await metrics(node))
    if (series.startsWith('autoretrieve_bitswap_response_total{') && series.includes('bitswap_topic="HAVE"'))
      haves += value
  assert.ok(haves <= large, `${haves} HAVE answers for ${large} blocks over 1024 bytes`)
})
