// bench/miss: a 64 MiB DAG fetched by a Helia client through autoretrieve from an HTTP provider
// stand-in (a cache miss), against (a) the same fetch from the node's cache and (b) the CAR
// downloaded straight from the provider, in the same run. Then a root probe (one block wanted as
// a miss, then as a hit: what the node adds to the injected latency), then 100 distinct misses
// at once across 5 providers. Reports ratios, time to first byte over the injected latency, the
// CPU bound on the miss (node + client + stand-ins over the cores), peak RSS.
// `--runs N` repeats the single miss (each run a DAG of its own, so each is a real miss), its hit,
// the direct CAR and the root probe; the summary gives medians and every run in `samples`.
//   node bench/miss/run.ts [--size-mib 64] [--runs 1] [--latency-ms 50] [--many-count 100] [--database-url postgres://…]
// Every part is on loopback; each client is bounded (BENCH_CLIENT_TIMEOUT_MS, 120 s; the 100 misses 300 s).
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createUnixfsFixture, startIndexer, startProvider } from '@autoretrieve/testkit'
import { fetchWithClients } from '../lib/clients.ts'
import { nodeEnv, startBenchNode } from '../lib/node.ts'
import { cpuTimeMs, peakRss, spawnNode } from '../lib/process.ts'
import { median, round, writeResult } from '../lib/results.ts'

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '64' },
    'latency-ms': { type: 'string', default: '50' },
    'database-url': { type: 'string', default: '' },
    'many-count': { type: 'string', default: '100' },
    runs: { type: 'string', default: '1' }
  }
})
const sizeMiB = Number(values['size-mib'])
const latency = Number(values['latency-ms'])
const manyCount = Number(values['many-count'])
const runs = Number(values.runs)
const dbArgs = values['database-url'] ? ['--database-url', values['database-url']] : []

/** One run of the single miss: its fetches, the root probe and the CPU they took. */
interface MissSample {
  run: number
  missMs: number
  cacheHitMs: number
  directCarMs: number
  directBytes: number
  missOverSlowerRatio: number
  ttfbMs: number
  cacheHitTtfbMs: number
  ttfbOverInjectedAndHitMs: number
  rootProbeMissMs: number
  rootProbeHitMs: number
  rootProbeNodeAddedMs: number
  cpuMs: { miss: { node: number; client: number }; cacheHit: { node: number; client: number }; standInsOnMiss: number }
  missCpuBoundMinRatio: number
}

const work = await mkdtemp(join(tmpdir(), 'bench-miss-'))
const closers: Array<() => Promise<unknown>> = []
try {
  process.stderr.write(`building a ${sizeMiB} MiB UnixFS DAG...\n`)
  // One DAG per run (distinct seeds), so every run's first fetch is a miss.
  const fixtures = await Promise.all(
    Array.from({ length: runs }, (_, i) =>
      createUnixfsFixture({ size: sizeMiB * 1024 * 1024, chunkSize: 256 * 1024, seed: 77 + 2 * i })
    )
  )
  // A second DAG per run for the root probe: its root alone, wanted once as a miss and once as a hit.
  const probes = await Promise.all(
    Array.from({ length: runs }, (_, i) =>
      createUnixfsFixture({ size: 4 * 1024 * 1024, chunkSize: 256 * 1024, seed: 78 + 2 * i })
    )
  )
  const provider = await startProvider({
    cars: [...fixtures.map((f) => f.car), ...probes.map((p) => p.car)],
    protocols: ['http'],
    fault: `delay:${latency}`
  })
  closers.push(() => provider.close())
  const indexer = await startIndexer({
    providers: [{ peerId: provider.peerId, addrs: [provider.httpMultiaddr!], protocols: ['http'] }],
    fault: `delay:${latency}`
  })
  closers.push(() => indexer.close())

  // (b) the CAR straight from the provider, the way a gateway client would take it.
  const directCar = async (root: string) => {
    const started = performance.now()
    const res = await fetch(`${provider.httpUrl}/ipfs/${root}?dag-scope=all`, {
      headers: { Accept: 'application/vnd.ipld.car' }
    })
    let bytes = 0
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength
    return { ms: performance.now() - started, bytes }
  }

  const node = await startBenchNode(
    join(work, 'node'),
    dbArgs,
    nodeEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url })
  )
  closers.push(() => node.proc.stop())
  const diagnose = async (what: string, err: unknown) => {
    const auth = { headers: { Authorization: `Bearer ${node.token}` } }
    const stats = await (await fetch(`${node.adminUrl}/api/v1/stats`, auth)).json()
    const peers = await (await fetch(`${node.adminUrl}/api/v1/peers`, auth)).json()
    process.stderr.write(
      `${what} did not complete; node stats: ${JSON.stringify(stats)} peers: ${JSON.stringify(peers)}\n`
    )
    throw err
  }
  const timeoutMs = Number(process.env.BENCH_CLIENT_TIMEOUT_MS ?? 120_000)
  const injected = 2 * latency
  const samples: MissSample[] = []
  for (let i = 0; i < runs; i++) {
    const fixture = fixtures[i]
    const direct = await directCar(fixture.root.toString())
    const cpuBeforeMiss = cpuTimeMs(node.pid)
    const benchCpuBeforeMiss = process.cpuUsage() // the provider and indexer stand-ins run in this process
    const miss = await fetchWithClients(node.multiaddr, fixture.root.toString(), 1, timeoutMs).catch((err) =>
      diagnose('miss', err)
    )
    const cpuBeforeHit = cpuTimeMs(node.pid)
    const benchCpu = process.cpuUsage(benchCpuBeforeMiss)
    const standInsCpuMs = (benchCpu.user + benchCpu.system) / 1000
    const hit = await fetchWithClients(node.multiaddr, fixture.root.toString(), 1, timeoutMs).catch((err) =>
      diagnose('hit', err)
    )
    const cpuAfterHit = cpuTimeMs(node.pid)
    // The root probe: one want, one block. On a miss that block waits for the lookup and the
    // provider (both delayed by `latency`); the same want as a hit is the client's and the wire's
    // share. What is left is what the node adds to the injected latency.
    const probeRoot = probes[i].root.toString()
    const rootMiss = await fetchWithClients(node.multiaddr, probeRoot, 1, timeoutMs, { rootFirst: true })
    const rootHit = await fetchWithClients(node.multiaddr, probeRoot, 1, timeoutMs, { rootFirst: true })
    const slower = Math.max(hit.wallMs, direct.ms)
    const nodeMissCpuMs = cpuBeforeHit - cpuBeforeMiss
    // With every core busy the miss cannot end sooner than the CPU it took (node, client, stand-ins)
    // spread over all cores: the ratio that bound allows, as measured in this run.
    const minMissMs = (nodeMissCpuMs + miss.clientCpuMs + standInsCpuMs) / availableParallelism()
    samples.push({
      run: i + 1,
      missMs: Math.round(miss.wallMs),
      cacheHitMs: Math.round(hit.wallMs),
      directCarMs: Math.round(direct.ms),
      directBytes: direct.bytes,
      missOverSlowerRatio: round(miss.wallMs / slower, 2),
      ttfbMs: Math.round(miss.meanFirstByteMs),
      cacheHitTtfbMs: Math.round(hit.meanFirstByteMs),
      ttfbOverInjectedAndHitMs: Math.round(miss.meanFirstByteMs - hit.meanFirstByteMs - injected),
      rootProbeMissMs: Math.round(rootMiss.meanRootBlockMs!),
      rootProbeHitMs: Math.round(rootHit.meanRootBlockMs!),
      rootProbeNodeAddedMs: Math.round(rootMiss.meanRootBlockMs! - rootHit.meanRootBlockMs! - injected),
      cpuMs: {
        miss: { node: Math.round(nodeMissCpuMs), client: Math.round(miss.clientCpuMs) },
        cacheHit: { node: Math.round(cpuAfterHit - cpuBeforeHit), client: Math.round(hit.clientCpuMs) },
        standInsOnMiss: Math.round(standInsCpuMs)
      },
      missCpuBoundMinRatio: round(minMissMs / slower, 2)
    })
    process.stderr.write(`run ${i + 1}: ${JSON.stringify(samples.at(-1))}\n`)
  }
  const med = (pick: (x: MissSample) => number) => median(samples.map(pick))
  const rssAfterSingleMiB = Math.round(peakRss(node.pid) / 2 ** 20)

  // 100 distinct misses at once across 5 providers, one Helia client asking for all of them.
  const small = await Promise.all(
    Array.from({ length: manyCount }, (_, i) =>
      createUnixfsFixture({ size: 256 * 1024, chunkSize: 64 * 1024, seed: 1000 + i })
    )
  )
  const providers = await Promise.all(
    Array.from({ length: 5 }, (_, k) =>
      startProvider({ cars: small.filter((_, i) => i % 5 === k).map((f) => f.car), protocols: ['http'] })
    )
  )
  for (const p of providers) closers.push(() => p.close())
  indexer.setFault('none')
  indexer.setProviders(
    providers.map((p, k) => ({
      peerId: p.peerId,
      addrs: [p.httpMultiaddr!],
      protocols: ['http' as const],
      cids: small.filter((_, i) => i % 5 === k).map((f) => f.root.toString())
    }))
  )
  const manyScript = new URL('../lib/helia-fetch-many.ts', import.meta.url).pathname
  const many = spawnNode(manyScript, [node.multiaddr, ...small.map((f) => f.root.toString())])
  const manyResult = await many.firstJson<{ ok: number; failed: number; ms: number }>(300_000)
  const rssMiB = Math.round(peakRss(node.pid) / 2 ** 20)

  // Medians over the runs; every run is in `samples`.
  const summary = {
    bench: 'miss',
    sizeMiB,
    runs,
    injectedLatencyMs: { indexer: latency, provider: latency },
    missMs: Math.round(med((x) => x.missMs)),
    cacheHitMs: Math.round(med((x) => x.cacheHitMs)),
    directCarMs: Math.round(med((x) => x.directCarMs)),
    missOverSlowerRatio: round(
      med((x) => x.missOverSlowerRatio),
      2
    ),
    ttfbMs: Math.round(med((x) => x.ttfbMs)),
    ttfbOverInjectedMs: Math.round(med((x) => x.ttfbMs) - injected),
    // The same client's time to first byte with nothing injected and every block cached: the part
    // of the miss's TTFB that is the client's own round trips (root, then leaves) and processing.
    cacheHitTtfbMs: Math.round(med((x) => x.cacheHitTtfbMs)),
    // The miss's TTFB less the hit's (the client's own round trips and processing) and the injected latency.
    ttfbOverInjectedAndHitMs: Math.round(med((x) => x.ttfbOverInjectedAndHitMs)),
    rootProbe: {
      missMs: Math.round(med((x) => x.rootProbeMissMs)),
      hitMs: Math.round(med((x) => x.rootProbeHitMs)),
      nodeAddedMs: Math.round(med((x) => x.rootProbeNodeAddedMs))
    },
    many: { count: manyCount, providers: 5, ...manyResult },
    // CPU time (user + system) of the node and of the client over each fetch: with 2 cores shared
    // by node, client and provider stand-in, the miss's extra work shows up as wall time.
    cpuMs: {
      miss: { node: Math.round(med((x) => x.cpuMs.miss.node)), client: Math.round(med((x) => x.cpuMs.miss.client)) },
      cacheHit: {
        node: Math.round(med((x) => x.cpuMs.cacheHit.node)),
        client: Math.round(med((x) => x.cpuMs.cacheHit.client))
      }
    },
    // The node's own CPU per GiB retrieved and served on the miss (the figure that holds on any machine).
    nodeMissCpuSecondsPerGiB: round(med((x) => x.cpuMs.miss.node) / 1000 / ((sizeMiB * 2 ** 20) / 2 ** 30), 2),
    missCpuBound: {
      cores: availableParallelism(),
      minRatio: round(
        med((x) => x.missCpuBoundMinRatio),
        2
      )
    },
    samples,
    nodePeakRssMiB: rssMiB,
    nodePeakRssBeforeManyMiB: rssAfterSingleMiB,
    database: values['database-url'] ? 'postgres' : 'pglite',
    goal: 'miss <= 1.25x the slower of cache hit and direct CAR; TTFB <= injected + 30 ms; 100 misses complete, RSS <= 400 MiB'
  }
  console.log(JSON.stringify(summary, null, 2))
  await writeResult('miss', summary)
} finally {
  for (const close of closers.reverse()) await close().catch(() => {})
  await rm(work, { recursive: true, force: true })
}
