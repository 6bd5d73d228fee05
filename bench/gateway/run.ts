// bench/gateway: the trustless HTTP gateway (`/ipfs/{cid}`), each figure against a baseline run in
// the same script on the same (shared) machine:
// 1. throughput of a 64 MiB CAR served from the node's cache, against the same bytes served by a
//    plain node:http file server (fs.createReadStream → response) in a process of its own;
// 2. time to first byte of a CAR on a miss, over the injected latency (the indexer's and the
//    provider's delay) and over the same request's time to first byte as a cache hit right after
//    (the client's and the wire's share), as bench/miss does; the indexer's and the provider's own
//    first byte, measured straight from the stand-ins, are recorded beside it;
// 3. requests per second for a small raw block under autocannon (10 connections), against the
//    file server serving a file of the same size;
// 4. node CPU per MiB served (from /proc, over the throughput runs).
// Goals (issue 15): throughput ≥ 0.8× the file server's, ≤ 30 ms of TTFB added by the node.
//   node bench/gateway/run.ts [--size-mib 64] [--runs 5] [--latency-ms 50] [--cannon-seconds 10] [--database-url postgres://…]
// Each server gets one untimed warm-up request (and the miss path one warm-up miss) first.
// Every part is on loopback; each client is bounded (BENCH_CLIENT_TIMEOUT_MS, 120 s).
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createUnixfsFixture, startIndexer, startProvider } from '@autoretrieve/testkit'
import autocannon from 'autocannon'
import { nodeEnv, startBenchNode } from '../lib/node.ts'
import { cpuTimeMs, peakRss, type Spawned, spawnNode } from '../lib/process.ts'
import { median, round, writeResult } from '../lib/results.ts'

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '64' },
    runs: { type: 'string', default: '5' },
    'latency-ms': { type: 'string', default: '50' },
    'cannon-seconds': { type: 'string', default: '10' },
    'database-url': { type: 'string', default: '' }
  }
})
const sizeMiB = Number(values['size-mib'])
const runs = Number(values.runs)
const latency = Number(values['latency-ms'])
const cannonSeconds = Number(values['cannon-seconds'])
// Each request is a record: PGlite (the default) writes them in this process, PostgreSQL in its own.
const dbArgs = values['database-url'] ? ['--database-url', values['database-url']] : []
const timeoutMs = Number(process.env.BENCH_CLIENT_TIMEOUT_MS ?? 120_000)
const FILE_SERVER = fileURLToPath(new URL('./file-server.ts', import.meta.url))
const CAR = 'application/vnd.ipld.car'

/** One GET read to the end: wall time, time to the first body byte, bytes. */
async function download(url: string, headers: Record<string, string> = {}) {
  const started = performance.now()
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) })
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`)
  let bytes = 0
  let firstByteMs = Number.NaN
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (bytes === 0) firstByteMs = performance.now() - started
    bytes += chunk.byteLength
  }
  return { ms: performance.now() - started, firstByteMs, bytes }
}

async function startFileServer(path: string, contentType: string): Promise<Spawned & { url: string }> {
  const proc = spawnNode(FILE_SERVER, [path, contentType])
  const { url } = await proc.firstJson<{ url: string }>(30_000)
  return Object.assign(proc, { url })
}

async function cannon(url: string, headers: Record<string, string> = {}) {
  const result = await autocannon({ url, headers, connections: 10, duration: cannonSeconds })
  return {
    requestsPerSecond: round(result.requests.average, 0),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors
  }
}

const work = await mkdtemp(join(tmpdir(), 'bench-gateway-'))
const closers: Array<() => Promise<unknown>> = []
try {
  process.stderr.write(`building a ${sizeMiB} MiB UnixFS DAG and ${runs} miss DAGs...\n`)
  const big = await createUnixfsFixture({ size: sizeMiB * 1024 * 1024, chunkSize: 256 * 1024, seed: 151 })
  const small = await createUnixfsFixture({ size: 1024, seed: 152 })
  const misses = await Promise.all(
    Array.from({ length: runs + 1 }, (_, i) =>
      createUnixfsFixture({ size: 4 * 1024 * 1024, chunkSize: 256 * 1024, seed: 153 + i })
    )
  )
  const provider = await startProvider({
    cars: misses.map((m) => m.car),
    protocols: ['http'],
    fault: `delay:${latency}`
  })
  closers.push(() => provider.close())
  const indexer = await startIndexer({
    providers: [{ peerId: provider.peerId, addrs: [provider.httpMultiaddr!], protocols: ['http'] }],
    fault: `delay:${latency}`
  })
  closers.push(() => indexer.close())
  const node = await startBenchNode(
    join(work, 'node'),
    dbArgs,
    nodeEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexer.url })
  )
  closers.push(() => node.proc.stop())
  if (!node.gatewayUrl) throw new Error('the node did not report a gateway URL')
  for (const car of [big.car, small.car]) {
    const res = await fetch(`${node.adminUrl}/api/v1/cache/import`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': CAR },
      body: Buffer.from(car)
    })
    if (res.status !== 200) throw new Error(`cache import: ${res.status} ${await res.text()}`)
  }

  // The baseline serves exactly the bytes the gateway sends: its own CAR, written to a file.
  const carUrl = `${node.gatewayUrl}/ipfs/${big.root}?format=car`
  const carBytes = new Uint8Array(await (await fetch(carUrl)).arrayBuffer())
  const carPath = join(work, 'big.car')
  await writeFile(carPath, carBytes)
  const carServer = await startFileServer(carPath, CAR)
  closers.push(() => carServer.stop())
  const rawPath = join(work, 'small.bin')
  await writeFile(rawPath, small.blocks[0].bytes)
  const rawServer = await startFileServer(rawPath, 'application/vnd.ipld.raw')
  closers.push(() => rawServer.stop())

  // Warm-ups, untimed: code paths compiled, the CAR's file in the page cache for both.
  await download(carUrl)
  await download(carServer.url)
  await download(`${node.gatewayUrl}/ipfs/${misses[runs].root}`, { Accept: CAR })

  // 1 + 4. Throughput, alternating which goes first; node CPU over its runs.
  const throughput: Array<{
    run: number
    gatewayMs: number
    fileServerMs: number
    ratio: number
    nodeCpuMsPerMiB: number
  }> = []
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['gateway', 'file'] : ['file', 'gateway']
    const ms: Record<string, number> = {}
    let cpuMs = 0
    for (const which of order) {
      if (which === 'gateway') {
        const before = cpuTimeMs(node.pid)
        const d = await download(carUrl)
        cpuMs = cpuTimeMs(node.pid) - before
        if (d.bytes !== carBytes.byteLength) throw new Error(`gateway sent ${d.bytes} of ${carBytes.byteLength} bytes`)
        ms.gateway = d.ms
      } else {
        const d = await download(carServer.url)
        if (d.bytes !== carBytes.byteLength) throw new Error(`file server sent ${d.bytes} bytes`)
        ms.file = d.ms
      }
    }
    const mib = carBytes.byteLength / 2 ** 20
    throughput.push({
      run: i + 1,
      gatewayMs: Math.round(ms.gateway),
      fileServerMs: Math.round(ms.file),
      ratio: round(ms.file / ms.gateway, 2),
      nodeCpuMsPerMiB: round(cpuMs / mib, 2)
    })
  }

  // 2. TTFB on a miss: a DAG of its own per run. Baselines measured now: the indexer's answer
  // and the provider's first CAR byte, each straight from the stand-in.
  const ttfb: Array<{
    run: number
    missTtfbMs: number
    hitTtfbMs: number
    indexerMs: number
    providerTtfbMs: number
    addedMs: number
  }> = []
  for (let i = 0; i < runs; i++) {
    const root = misses[i].root.toString()
    // The baselines first: the node's own lookup and fetch come right after, on the same load.
    const lookupStarted = performance.now()
    const lookup = await fetch(`${indexer.url}/cid/${root}`, { headers: { Accept: 'application/json' } })
    await lookup.arrayBuffer()
    const indexerMs = performance.now() - lookupStarted
    const direct = await download(`${provider.httpUrl}/ipfs/${root}?dag-scope=all`, { Accept: CAR })
    const miss = await download(`${node.gatewayUrl}/ipfs/${root}`, { Accept: CAR })
    const hit = await download(`${node.gatewayUrl}/ipfs/${root}`, { Accept: CAR })
    ttfb.push({
      run: i + 1,
      missTtfbMs: Math.round(miss.firstByteMs),
      hitTtfbMs: Math.round(hit.firstByteMs),
      indexerMs: Math.round(indexerMs),
      providerTtfbMs: Math.round(direct.firstByteMs),
      addedMs: Math.round(miss.firstByteMs - hit.firstByteMs - 2 * latency)
    })
  }

  // 3. A small raw block under autocannon, and the same bytes from the file server.
  const rawCid = small.blocks[0].cid.toString()
  const gatewayRaw = await cannon(`${node.gatewayUrl}/ipfs/${rawCid}?format=raw`)
  const fileRaw = await cannon(rawServer.url)

  const summary = {
    name: 'gateway',
    sharedMachine:
      'the machine was shared with other engineers’ builds and tests: read the ratios, not the absolute figures',
    sizeMiB,
    carBytes: carBytes.byteLength,
    runs,
    latencyMs: latency,
    database: values['database-url'] ? 'postgresql' : 'pglite',
    goals: { throughputRatioMin: 0.8, addedTtfbMsMax: 30 },
    medians: {
      throughputRatio: median(throughput.map((s) => s.ratio)),
      gatewayMiBps: round(carBytes.byteLength / 2 ** 20 / (median(throughput.map((s) => s.gatewayMs)) / 1000), 1),
      fileServerMiBps: round(carBytes.byteLength / 2 ** 20 / (median(throughput.map((s) => s.fileServerMs)) / 1000), 1),
      nodeCpuMsPerMiB: median(throughput.map((s) => s.nodeCpuMsPerMiB)),
      missTtfbMs: median(ttfb.map((s) => s.missTtfbMs)),
      addedTtfbMs: median(ttfb.map((s) => s.addedMs)),
      rawRequestsPerSecond: gatewayRaw.requestsPerSecond,
      rawRequestsPerSecondRatio: round(gatewayRaw.requestsPerSecond / fileRaw.requestsPerSecond, 2)
    },
    samples: {
      throughput,
      ttfb,
      raw: {
        gateway: gatewayRaw,
        fileServer: fileRaw,
        seconds: cannonSeconds,
        blockBytes: small.blocks[0].bytes.byteLength
      }
    },
    nodePeakRssMiB: round(peakRss(node.pid) / 2 ** 20, 0)
  }
  const file = await writeResult('gateway', summary)
  process.stdout.write(`${JSON.stringify(summary.medians, null, 2)}\nwritten to ${file}\n`)
} finally {
  for (const close of closers.reverse()) await close().catch(() => {})
  await rm(work, { recursive: true, force: true })
}
