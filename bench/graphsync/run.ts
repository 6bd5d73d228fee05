// bench/graphsync: a 64 MiB UnixFS DAG retrieved over Graphsync and over HTTP, alternating, each
// time into an empty cache through `autoretrieve fetch`, i.e. the node's retrieval engine with every
// block verified and written. Reports MB/s per protocol, the ratio and the fetch's CPU seconds per GiB.
//   --provider standin (default): one provider stand-in (its own process, serving trustless HTTP
//     and Graphsync with data-transfer, as Boost does); results in bench/results/graphsync.json.
//   --provider go: Graphsync from the Go reference responder (go-graphsync + go-data-transfer v2,
//     packages/testkit/go/graphsync-responder), HTTP from the stand-in; bench/results/graphsync-go.json.
//   node bench/graphsync/run.ts [--provider standin|go] [--size-mib 64] [--rounds 3]
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createUnixfsFixture, startGoResponder } from '@autoretrieve/testkit'
import { CLI, nodeEnv } from '../lib/node.ts'
import { peakRss, spawnNode } from '../lib/process.ts'
import { median, round, writeResult } from '../lib/results.ts'

const TESTKIT = fileURLToPath(new URL('../../packages/testkit/src/cli.ts', import.meta.url))
const CPU_AT_EXIT = fileURLToPath(new URL('./cpu-at-exit.ts', import.meta.url))
const PROTOCOLS = ['graphsync', 'http'] as const
type Protocol = (typeof PROTOCOLS)[number]

const { values } = parseArgs({
  options: {
    provider: { type: 'string', default: 'standin' },
    'size-mib': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' }
  }
})
const sizeMiB = Number(values['size-mib'])
const rounds = Number(values.rounds)
const providerKind = values.provider
if (providerKind !== 'standin' && providerKind !== 'go') throw new Error(`--provider ${providerKind}: standin or go`)

interface FetchSummary {
  bytes: number
  blocks: number
  protocol: string
  ms: number
  peakRssMiB: number
  /** CPU time (user + system) of the whole fetch process, start-up included. */
  cpuS: number
}

/** One `autoretrieve fetch` into a fresh data dir; resolves with its summary line (bounded in time). */
function fetchOnce(dataDir: string, root: string, provider: string, protocol: Protocol): Promise<FetchSummary> {
  const args = ['--data-dir', dataDir, 'fetch', root, '--provider', provider, '-o', '/dev/null']
  if (protocol === 'graphsync') args.push('--protocol', 'graphsync')
  const cpuFile = `${dataDir}.cpu.json`
  const env = nodeEnv({ BENCH_CPU_FILE: cpuFile })
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${CPU_AT_EXIT}`.trim()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    let rss = 0
    child.stderr.on('data', (d) => {
      stderr += d
    })
    // VmHWM is gone once the process exits: sample it while it runs.
    const sampler = setInterval(() => {
      rss = Math.max(rss, peakRss(child.pid ?? 0))
    }, 50)
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.on('exit', async (code) => {
      clearInterval(sampler)
      clearTimeout(timer)
      const last = stderr.trim().split('\n').at(-1) ?? ''
      if (code !== 0) return reject(new Error(`fetch over ${protocol} exited ${code}: ${stderr.slice(-2000)}`))
      try {
        const cpu = JSON.parse(await readFile(cpuFile, 'utf8')) as { user: number; system: number }
        await rm(cpuFile, { force: true })
        const cpuS = (cpu.user + cpu.system) / 1e6
        resolve({ ...JSON.parse(last), peakRssMiB: Math.round(rss / 2 ** 20), cpuS })
      } catch (cause) {
        reject(new Error(`fetch over ${protocol}: no summary line in ${last}`, { cause }))
      }
    })
  })
}

const work = await mkdtemp(join(tmpdir(), 'bench-graphsync-'))
const stops: Array<() => Promise<unknown>> = []
try {
  process.stderr.write(`building a ${sizeMiB} MiB UnixFS DAG...\n`)
  const fixture = await createUnixfsFixture({ size: sizeMiB * 1024 * 1024, chunkSize: 256 * 1024, seed: 91 })
  const carPath = join(work, 'dag.car')
  await writeFile(carPath, fixture.car)
  const root = fixture.root.toString()
  // A one-block DAG: its fetch costs what every fetch costs before the first byte (start-up, dial,
  // deal), subtracted from the CPU figures.
  const tiny = await createUnixfsFixture({ size: 1024, seed: 92 })
  const tinyPath = join(work, 'tiny.car')
  await writeFile(tinyPath, tiny.car)
  const protocols = providerKind === 'go' ? 'http' : 'http,graphsync'
  const proc = spawnNode(TESTKIT, ['provider', '--car', carPath, tinyPath, '--protocols', protocols])
  stops.push(() => proc.stop())
  const info = await proc.firstJson<{ peerId: string; multiaddrs: string[]; httpUrl: string }>(120_000)
  const address: Record<Protocol, string> = {
    graphsync: info.multiaddrs[0],
    http: info.httpUrl
  }
  if (providerKind === 'go') {
    const go = await startGoResponder({ cars: [fixture.car, tiny.car] })
    stops.push(() => go.close())
    address.graphsync = go.multiaddrs[0]
  }

  // The median of three: start-up CPU varies by a tenth from run to run on a busy machine.
  const baselineCpuS = {} as Record<Protocol, number>
  for (const protocol of PROTOCOLS) {
    const cpu: number[] = []
    for (let i = 0; i < 3; i++) {
      const dataDir = join(work, `${protocol}-tiny-${i}`)
      cpu.push((await fetchOnce(dataDir, tiny.root.toString(), address[protocol], protocol)).cpuS)
      await rm(dataDir, { recursive: true, force: true })
    }
    baselineCpuS[protocol] = cpu.sort((a, b) => a - b)[1]
  }
  const runs: Record<Protocol, FetchSummary[]> = { graphsync: [], http: [] }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? PROTOCOLS : ([...PROTOCOLS].reverse() as Protocol[])
    for (const protocol of order) {
      const dataDir = join(work, `${protocol}-${r}`)
      const res = await fetchOnce(dataDir, root, address[protocol], protocol)
      await rm(dataDir, { recursive: true, force: true })
      if (res.protocol !== protocol || res.bytes < fixture.bytes.byteLength)
        throw new Error(`${protocol}: retrieved ${res.bytes} bytes over ${res.protocol}`)
      runs[protocol].push(res)
      process.stderr.write(
        `${protocol} round ${r + 1}: ${(res.bytes / 1e6 / (res.ms / 1000)).toFixed(1)} MB/s (${res.ms} ms)\n`
      )
    }
  }
  // Medians over the rounds; every round is in `samples`.
  const mbps = (xs: FetchSummary[]) => median(xs.map((x) => x.bytes / 1e6 / (x.ms / 1000)))
  const cpuPerGiB = (protocol: Protocol) =>
    round(median(runs[protocol].map((x) => (x.cpuS - baselineCpuS[protocol]) / (x.bytes / 2 ** 30))), 2)
  const gs = mbps(runs.graphsync)
  const http = mbps(runs.http)
  const samples = PROTOCOLS.flatMap((protocol) =>
    runs[protocol].map((x, i) => ({
      protocol,
      round: i + 1,
      bytes: x.bytes,
      ms: x.ms,
      MBps: round(x.bytes / 1e6 / (x.ms / 1000), 1),
      cpuS: round(x.cpuS, 3),
      cpuBaselineS: round(baselineCpuS[protocol], 3),
      peakRssMiB: x.peakRssMiB
    }))
  )
  const summary = {
    bench: providerKind === 'go' ? 'graphsync-go' : 'graphsync',
    graphsyncProvider: providerKind === 'go' ? 'go-graphsync v0.17.0 + go-data-transfer v2.0.0-rc8' : 'stand-in',
    httpProvider: 'stand-in',
    sizeMiB,
    rounds,
    blocks: runs.http[0].blocks,
    graphsyncMBps: +gs.toFixed(1),
    httpMBps: +http.toFixed(1),
    ratio: +(gs / http).toFixed(2),
    fetchPeakRssMiB: {
      graphsync: Math.max(...runs.graphsync.map((x) => x.peakRssMiB)),
      http: Math.max(...runs.http.map((x) => x.peakRssMiB))
    },
    // The fetch process's CPU less that of a one-block fetch (start-up, dial, deal), per GiB retrieved.
    fetchCpuSecondsPerGiB: { graphsync: cpuPerGiB('graphsync'), http: cpuPerGiB('http') },
    fetchBaselineCpuS: { graphsync: +baselineCpuS.graphsync.toFixed(2), http: +baselineCpuS.http.toFixed(2) },
    goal: 'graphsync >= 0.7x the HTTP throughput from the same provider'
  }
  console.log(JSON.stringify(summary, null, 2))
  await writeResult(summary.bench, { ...summary, samples })
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {})
  await rm(work, { recursive: true, force: true })
}
