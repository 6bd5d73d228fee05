// bench/miss: a 64 MiB DAG fetched by a Helia client through autoretrieve from an HTTP provider
// stand-in (a cache miss), against (a) the same fetch from the node's cache and (b) the CAR
// downloaded straight from the provider, in the same run. Then a root probe (one block wanted as
// a miss, then as a hit: what the node adds to the injected latency), then 100 distinct misses
// at once across 5 providers. Reports ratios, time to first byte over the injected latency, the
// CPU bound on the miss (node + client + stand-ins over the cores), peak RSS.
//   node bench/miss/run.ts [--size-mib 64] [--latency-ms 50] [--many-count 100] [--database-url postgres://…]
// Every part is on loopback; each client is bounded (BENCH_CLIENT_TIMEOUT_MS, 120 s; the 100 misses 300 s).
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createUnixfsFixture, startIndexer, startProvider } from '@autoretrieve/testkit'
import { fetchWithClients } from '../lib/clients.ts'
import { nodeEnv, startBenchNode } from '../lib/node.ts'
import { cpuTimeMs, peakRss, spawnNode } from '../lib/process.ts'
import { writeResult } from '../lib/results.ts'

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '64' },
    'latency-ms': { type: 'string', default: '50' },
    'database-url': { type: 'string', default: '' },
    'many-count': { type: 'string', default: '100' }
  }
})
const sizeMiB = Number(values['size-mib'])
const latency = Number(values['latency-ms'])
const manyCount = Number(values['many-count'])
const dbArgs = values['database-url'] ? ['--database-url', values['database-url']] : []

const work = await mkdtemp(join(tmpdir(), 'bench-miss-'))
const closers: Array<() => Promise<unknown>> = []
try {
  process.stderr.write(`building a ${sizeMiB} MiB UnixFS DAG...\n`)
  const fixture = await createUnixfsFixture({ size: sizeMiB * 1024 * 1024, chunkSize: 256 * 1024, seed: 77 })
  // A second DAG for the root probe: its root alone, wanted once as a miss and once as a hit.
  const probe = await createUnixfsFixture({ size: 4 * 1024 * 1024, chunkSize: 256 * 1024, seed: 78 })
  const provider = await startProvider({
    cars: [fixture.car, probe.car],
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
  const directStart = performance.now()
  const res = await fetch(`${provider.httpUrl}/ipfs/${fixture.root}?dag-scope=all`, {
    headers: { Accept: 'application/vnd.ipld.car' }
  })
  let directBytes = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) directBytes += chunk.byteLength
  const directMs = performance.now() - directStart

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
  const rootMiss = await fetchWithClients(node.multiaddr, probe.root.toString(), 1, timeoutMs, { rootFirst: true })
  const rootHit = await fetchWithClients(node.multiaddr, probe.root.toString(), 1, timeoutMs, { rootFirst: true })
  const slower = Math.max(hit.wallMs, directMs)
  const injected = 2 * latency
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

  const summary = {
    bench: 'miss',
    sizeMiB,
    injectedLatencyMs: { indexer: latency, provider: latency },
    missMs: Math.round(miss.wallMs),
    cacheHitMs: Math.round(hit.wallMs),
    directCarMs: Math.round(directMs),
    directBytes,
    missOverSlowerRatio: +(miss.wallMs / slower).toFixed(2),
    ttfbMs: Math.round(miss.meanFirstByteMs),
    ttfbOverInjectedMs: Math.round(miss.meanFirstByteMs - injected),
    // The same client's time to first byte with nothing injected and every block cached: the part
    // of the miss's TTFB that is the client's own round trips (root, then leaves) and processing.
    cacheHitTtfbMs: Math.round(hit.meanFirstByteMs),
    // The miss's TTFB less the hit's (the client's own round trips and processing) and the injected latency.
    ttfbOverInjectedAndHitMs: Math.round(miss.meanFirstByteMs - hit.meanFirstByteMs - injected),
    rootProbe: {
      missMs: Math.round(rootMiss.meanRootBlockMs!),
      hitMs: Math.round(rootHit.meanRootBlockMs!),
      nodeAddedMs: Math.round(rootMiss.meanRootBlockMs! - rootHit.meanRootBlockMs! - injected)
    },
    many: { count: manyCount, providers: 5, ...manyResult },
    // CPU time (user + system) of the node and of the client over each fetch: with 2 cores shared
    // by node, client and provider stand-in, the miss's extra work shows up as wall time.
    cpuMs: {
      miss: { node: Math.round(cpuBeforeHit - cpuBeforeMiss), client: Math.round(miss.clientCpuMs) },
      cacheHit: { node: Math.round(cpuAfterHit - cpuBeforeHit), client: Math.round(hit.clientCpuMs) }
    },
    // With every core busy the miss cannot end sooner than the CPU it took (node, client, stand-ins)
    // spread over all cores: the ratio that bound allows, as measured in this run.
    missCpuBound: {
      cores: availableParallelism(),
      standInsCpuMs: Math.round(standInsCpuMs),
      minMissMs: Math.round((cpuBeforeHit - cpuBeforeMiss + miss.clientCpuMs + standInsCpuMs) / availableParallelism()),
      minRatio: +(
        (cpuBeforeHit - cpuBeforeMiss + miss.clientCpuMs + standInsCpuMs) /
        availableParallelism() /
        slower
      ).toFixed(2)
    },
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
