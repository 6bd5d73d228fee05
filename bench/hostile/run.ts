// bench/hostile: the node's peak RSS under each attack a hostile provider or peer can make, against
// the 350 MiB budget (the node stays under it when serving). Each attack gets a node of its own (its
// own process, so VmHWM from /proc/<pid>/status is that node's peak under that attack alone), and a
// baseline node does an honest miss of the same DAG for comparison. Attacks:
//   providers (a Helia client's miss, the hostile provider listed first, a good one second):
//     huge-block (a CAR section claiming 1 GiB, then junk), huge-header (a 100 MiB CAR header),
//     hanging (accepts, never answers: the miss's time is the figure, against the baseline's)
//   Bitswap peers (the DAG cached; afterwards a Helia client must still be served):
//     random bytes on Bitswap streams, a >4 MiB frame prefix, a 10,000-entry wantlist, peers that
//     want the whole DAG and never read, 2,000 wants for missing blocks from one peer
//   node bench/hostile/run.ts [--size-mib 16] [--database-url postgres://…] [--only name,name]
// Every part is on loopback; every wait is bounded.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { encodeMessage, PROTOCOLS, WantType } from '@autoretrieve/bitswap'
import { encodeFrame, uvarintBytes } from '@autoretrieve/frames'
import {
  createUnixfsFixture,
  type IndexerProviderRecord,
  type ProviderFault,
  type ProviderStandIn,
  startIndexer,
  startProvider
} from '@autoretrieve/testkit'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { fetchWithClients } from '../lib/clients.ts'
import { type BenchNode, nodeEnv, startBenchNode } from '../lib/node.ts'
import { peakRss } from '../lib/process.ts'
import { round, writeResult } from '../lib/results.ts'

const BUDGET_MIB = 350
const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '16' },
    'database-url': { type: 'string', default: '' },
    only: { type: 'string', default: '' }
  }
})
const sizeMiB = Number(values['size-mib'])
const dbArgs = values['database-url'] ? ['--database-url', values['database-url']] : []
const only = values.only ? new Set(values.only.split(',')) : undefined
const CLIENT_TIMEOUT_MS = 120_000
const mib = (bytes: number) => round(bytes / 2 ** 20, 1)

const work = await mkdtemp(join(tmpdir(), 'bench-hostile-'))
const closers: Array<() => Promise<unknown>> = []
let nodes = 0

interface AttackResult {
  attack: string
  peakRssMiB: number
  withinBudget: boolean
  [figure: string]: unknown
}

/** A node of its own for one attack: started, used, its peak RSS read while it still runs, stopped. */
async function withNode<T extends object>(
  indexerUrl: string,
  run: (node: BenchNode) => Promise<T>
): Promise<T & { peakRssMiB: number }> {
  const node = await startBenchNode(
    join(work, `node-${nodes++}`),
    dbArgs,
    nodeEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexerUrl })
  )
  try {
    const figures = await run(node)
    return { ...figures, peakRssMiB: mib(peakRss(node.pid)) }
  } finally {
    await node.proc.stop()
  }
}

/** A bare libp2p peer (TCP, Noise, Yamux), as a hostile Bitswap peer would run. */
async function peer(): Promise<Libp2p> {
  const p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  closers.push(async () => p.stop())
  return p
}

/** Writes `chunks` to a Bitswap stream until they are sent or the node resets it; the bytes it took. */
async function flood(p: Libp2p, addr: string, chunks: Iterable<Uint8Array>, deadlineMs = 30_000): Promise<number> {
  // libp2p refuses more than a few new inbound connections a second from one host: retry (bounded).
  let stream: Awaited<ReturnType<Libp2p['dialProtocol']>> | undefined
  for (let attempt = 1; stream === undefined; attempt++) {
    try {
      stream = await p.dialProtocol(multiaddr(addr), PROTOCOLS[0])
    } catch (err) {
      if (attempt >= 10) throw err
      await new Promise((r) => setTimeout(r, 1_000))
    }
  }
  const deadline = Date.now() + deadlineMs
  let sent = 0
  try {
    for (const chunk of chunks) {
      if (Date.now() > deadline || stream.status !== 'open') break
      if (!stream.send(chunk)) {
        await Promise.race([stream.onDrain(), new Promise((r) => setTimeout(r, 2_000))])
      }
      sent += chunk.byteLength
    }
  } catch {
    // reset by the node: what we measure is that it did so without growing
  } finally {
    stream.abort(new Error('done'))
  }
  return sent
}

function* repeat(chunk: Uint8Array, times: number) {
  for (let i = 0; i < times; i++) yield chunk
}

const randomCid = () => CID.createV1(raw.code, sha256.digest(randomBytes(32)) as never)

async function importCar(node: BenchNode, car: Uint8Array) {
  const res = await fetch(`${node.adminUrl}/api/v1/cache/import`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/vnd.ipld.car' },
    body: new Uint8Array(car)
  })
  if (res.status !== 200) throw new Error(`import failed: ${res.status} ${await res.text()}`)
}

const ok = (r: { bytes: number }, expected: number) => r.bytes === expected

interface NodeView {
  /** The node's own time for the retrieval, from its records: started to finished. */
  retrievalMs: number
  /** Each attempt, in ms from the retrieval's start. */
  attempts: Array<{
    provider: string
    outcome: string
    errorClass: string | null
    startMs: number
    firstByteMs: number | null
  }>
}

/** The node's record of the newest retrieval of `cid` once it has finished (records are written in batches; bounded wait). */
async function nodeView(node: BenchNode, cid: string): Promise<NodeView | undefined> {
  type Attempt = {
    provider: string
    outcome: string
    errorClass: string | null
    startedAt: string
    firstByteAt: string | null
  }
  type Retrieval = { status: string; startedAt: string; endedAt: string | null; attempts: Attempt[] }
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const res = await fetch(`${node.adminUrl}/api/v1/cids/${cid}/explain`, {
      headers: { Authorization: `Bearer ${node.token}` }
    })
    const body = (await res.json()) as { retrievals?: Retrieval[] }
    const r = body.retrievals?.[0]
    if (r !== undefined && r.status !== 'running' && r.endedAt !== null) {
      const t0 = Date.parse(r.startedAt)
      return {
        retrievalMs: Date.parse(r.endedAt) - t0,
        attempts: r.attempts
          .map((a) => ({
            provider: a.provider,
            outcome: a.outcome,
            errorClass: a.errorClass,
            startMs: Date.parse(a.startedAt) - t0,
            firstByteMs: a.firstByteAt === null ? null : Date.parse(a.firstByteAt) - t0
          }))
          .sort((a, b) => a.startMs - b.startMs)
      }
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  return undefined
}

try {
  process.stderr.write(`building a ${sizeMiB} MiB UnixFS DAG...\n`)
  const fixture = await createUnixfsFixture({ size: sizeMiB * 2 ** 20, chunkSize: 256 * 1024, seed: 1313 })
  const root = fixture.root.toString()
  // Two small DAGs for the hanging provider's cost, apart from the big DAG's transfer time: each the
  // first retrieval of a fresh node (no provider history, so the indexer's order holds), one an
  // honest miss on the baseline node, the other with the hanging provider listed first.
  const [honestSmall, hangSmall] = await Promise.all(
    [1314, 1315].map((seed) => createUnixfsFixture({ size: 1024 * 1024, chunkSize: 256 * 1024, seed }))
  )
  const good = await startProvider({ cars: [fixture.car, honestSmall.car, hangSmall.car], protocols: ['http'] })
  closers.push(() => good.close())
  const hostile = new Map<ProviderFault, ProviderStandIn>()
  for (const fault of ['huge-block', 'huge-header', 'hang'] as const) {
    const p = await startProvider({ cars: [fixture.car], protocols: ['http'], fault })
    closers.push(() => p.close())
    hostile.set(fault, p)
  }
  const record = (p: ProviderStandIn, cids?: string[]): IndexerProviderRecord => ({
    peerId: p.peerId,
    addrs: [p.httpMultiaddr!],
    protocols: ['http'],
    ...(cids ? { cids } : {})
  })
  const indexer = await startIndexer({ providers: [record(good)] })
  closers.push(() => indexer.close())
  const results: AttackResult[] = []
  const add = (attack: string, figures: { peakRssMiB: number } & Record<string, unknown>) => {
    const r = { attack, ...figures, withinBudget: figures.peakRssMiB <= BUDGET_MIB }
    results.push(r)
    process.stderr.write(`${JSON.stringify(r)}\n`)
  }
  const want = (name: string) => only === undefined || only.has(name)

  // Baseline: an honest miss of the DAG from the good provider.
  indexer.setProviders([record(good)])
  const baseline = await withNode(indexer.url, async (node) => {
    const small = await fetchWithClients(node.multiaddr, honestSmall.root.toString(), 1, CLIENT_TIMEOUT_MS)
    const smallView = await nodeView(node, honestSmall.root.toString())
    const miss = await fetchWithClients(node.multiaddr, root, 1, CLIENT_TIMEOUT_MS)
    return {
      smallView,
      missMs: Math.round(miss.wallMs),
      ttfbMs: Math.round(miss.meanFirstByteMs),
      served: ok(miss, fixture.bytes.byteLength) && ok(small, honestSmall.bytes.byteLength),
      small: { sizeMiB: 1, missMs: Math.round(small.wallMs), ttfbMs: Math.round(small.meanFirstByteMs) }
    }
  })
  add('baseline-honest-miss', baseline)

  // Hostile providers, listed before the good one.
  for (const [attack, fault] of [
    ['huge-block-claim', 'huge-block'],
    ['huge-car-header', 'huge-header'],
    ['hanging-provider', 'hang']
  ] as const) {
    if (!want(attack)) continue
    const bad = hostile.get(fault)!
    const junkBefore = bad.stats.junkBytesSent
    indexer.setProviders([record(bad, [root, hangSmall.root.toString()]), record(good)])
    const figures = await withNode(indexer.url, async (node) => {
      // The hanging provider first, on a fresh node: a 1 MiB miss, then the big one.
      const hungSmall =
        fault === 'hang'
          ? await fetchWithClients(node.multiaddr, hangSmall.root.toString(), 1, CLIENT_TIMEOUT_MS)
          : undefined
      const miss = await fetchWithClients(node.multiaddr, root, 1, CLIENT_TIMEOUT_MS)
      const figures: Record<string, unknown> = {
        missMs: Math.round(miss.wallMs),
        missOverBaselineRatio: round(miss.wallMs / baseline.missMs, 2),
        ttfbMs: Math.round(miss.meanFirstByteMs),
        baselineTtfbMs: baseline.ttfbMs,
        served: ok(miss, fixture.bytes.byteLength)
      }
      if (hungSmall === undefined) figures.junkBytesWrittenMiB = mib(bad.stats.junkBytesSent - junkBefore)
      else {
        figures.small = {
          sizeMiB: 1,
          hangingFirstMissMs: Math.round(hungSmall.wallMs),
          honestMissMs: baseline.small.missMs,
          hangingFirstTtfbMs: Math.round(hungSmall.meanFirstByteMs),
          honestTtfbMs: baseline.small.ttfbMs,
          addedByHangingMs: Math.round(hungSmall.meanFirstByteMs - baseline.small.ttfbMs),
          served: ok(hungSmall, hangSmall.bytes.byteLength),
          // The node's own records: what the hanging provider cost it, apart from the client's noise.
          nodeHangingFirst: await nodeView(node, hangSmall.root.toString()),
          nodeHonest: baseline.smallView
        }
      }
      return figures
    })
    add(attack, figures)
  }

  // Bitswap peers against a node holding the DAG; afterwards an honest client must still be served.
  indexer.setProviders([])
  const bitswapAttacks: Array<[string, (node: BenchNode) => Promise<Record<string, unknown>>]> = [
    [
      'bitswap-random-bytes',
      async (node) => {
        // 10 peers, each a stream of 16 MiB of random bytes.
        const junk = randomBytes(64 * 1024)
        const sent = await Promise.all(
          Array.from({ length: 10 }, async () => flood(await peer(), node.multiaddr, repeat(junk, 256)))
        )
        return { peers: 10, bytesOfferedMiB: 160, bytesTakenMiB: mib(sent.reduce((a, b) => a + b, 0)) }
      }
    ],
    [
      'bitswap-oversized-frame',
      async (node) => {
        // 10 peers, each a frame prefix of 5 MiB (over the 4 MiB message limit), then its body.
        const body = randomBytes(64 * 1024)
        const sent = await Promise.all(
          Array.from({ length: 10 }, async () =>
            flood(await peer(), node.multiaddr, [uvarintBytes(5 * 2 ** 20), ...repeat(body, 80)])
          )
        )
        return { peers: 10, framePrefixMiB: 5, bytesTakenMiB: mib(sent.reduce((a, b) => a + b, 0)) }
      }
    ],
    [
      'wantlist-10k',
      async (node) => {
        // One message with 10,000 want-blocks for blocks nobody has (under the 4 MiB limit).
        const entries = Array.from({ length: 10_000 }, () => ({ cid: randomCid(), sendDontHave: true }))
        const msg = encodeFrame(encodeMessage({ wantlist: { entries } })).subarray()
        const p = await peer()
        await flood(p, node.multiaddr, [msg])
        await new Promise((r) => setTimeout(r, 10_000)) // let the misses it started run
        return { entries: 10_000, messageKiB: Math.round(msg.byteLength / 1024) }
      }
    ],
    [
      'non-reading-peers',
      async (node) => {
        // 20 peers want every block of the DAG and never read an answer.
        const entries = fixture.blocks.map((b) => ({ cid: b.cid }))
        const msg = encodeFrame(encodeMessage({ wantlist: { entries } })).subarray()
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            const p = await peer()
            await p.handle(PROTOCOLS, () => {}) // accept the node's streams, read nothing
            await flood(p, node.multiaddr, [msg])
          })
        )
        await new Promise((r) => setTimeout(r, 10_000)) // the node fills what it may, then holds
        return { peers: 20, wantsEach: entries.length, dagMiB: sizeMiB }
      }
    ],
    [
      'missing-wants-2000',
      async (node) => {
        // One peer, 2,000 want-blocks for blocks that exist nowhere, in 20 messages of 100.
        const lookupsBefore = indexer.requests.length
        const p = await peer()
        await p.handle(PROTOCOLS, async (stream) => {
          for await (const _ of stream) {
          } // read (and drop) the DONT_HAVEs
        })
        const messages = Array.from({ length: 20 }, () =>
          encodeFrame(
            encodeMessage({
              wantlist: {
                entries: Array.from({ length: 100 }, () => ({
                  cid: randomCid(),
                  wantType: WantType.Block,
                  sendDontHave: true
                }))
              }
            })
          ).subarray()
        )
        await flood(p, node.multiaddr, messages)
        await new Promise((r) => setTimeout(r, 15_000))
        return { wants: 2_000, indexerLookupsIn15s: indexer.requests.length - lookupsBefore }
      }
    ]
  ]
  for (const [attack, run] of bitswapAttacks) {
    if (!want(attack)) continue
    const figures = await withNode(indexer.url, async (node) => {
      await importCar(node, fixture.car)
      const figures = await run(node)
      const after = await fetchWithClients(node.multiaddr, root, 1, CLIENT_TIMEOUT_MS).catch(() => undefined)
      return {
        ...figures,
        servedAfter: after !== undefined && ok(after, fixture.bytes.byteLength),
        serveAfterMs: after ? Math.round(after.wallMs) : null
      }
    })
    add(attack, figures)
  }

  const worst = results.reduce((a, b) => (b.peakRssMiB > a.peakRssMiB ? b : a))
  const hanging = results.find((r) => r.attack === 'hanging-provider')
  const summary = {
    bench: 'hostile',
    sizeMiB,
    budgetMiB: BUDGET_MIB,
    database: values['database-url'] ? 'postgres' : 'pglite',
    allWithinBudget: results.every((r) => r.withinBudget),
    worst: { attack: worst.attack, peakRssMiB: worst.peakRssMiB },
    baselinePeakRssMiB: baseline.peakRssMiB,
    hangingProviderFirst: hanging
      ? {
          missMs: hanging.missMs,
          overBaselineRatio: hanging.missOverBaselineRatio,
          small: hanging.small
        }
      : null,
    attacks: results,
    machineShared: 'yes: 2 cores shared with other sessions; RSS is per process and unaffected, times are not',
    goal: `the node's peak RSS under every attack <= ${BUDGET_MIB} MiB; a miss with a hanging provider first completes in well under 15 s`
  }
  console.log(JSON.stringify(summary, null, 2))
  await writeResult('hostile', summary)
} finally {
  for (const close of closers.reverse()) await close().catch(() => {})
  await rm(work, { recursive: true, force: true })
}
