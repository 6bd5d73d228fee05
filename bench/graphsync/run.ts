// bench/graphsync: a 64 MiB UnixFS DAG retrieved from one provider stand-in (its own process,
// serving trustless HTTP and Graphsync with data-transfer, as Boost does) over Graphsync and over
// HTTP, alternating, each time into an empty cache through `autoretrieve fetch`, i.e. the node's
// retrieval engine with every block verified and written. Reports MB/s per protocol and the ratio.
//   node bench/graphsync/run.ts [--size-mib 64] [--rounds 3]
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import { CLI, nodeEnv } from '../lib/node.ts'
import { peakRss, spawnNode } from '../lib/process.ts'
import { writeResult } from '../lib/results.ts'

const TESTKIT = fileURLToPath(new URL('../../packages/testkit/src/cli.ts', import.meta.url))
const PROTOCOLS = ['graphsync', 'http'] as const
type Protocol = (typeof PROTOCOLS)[number]

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' }
  }
})
const sizeMiB = Number(values['size-mib'])
const rounds = Number(values.rounds)

interface FetchSummary {
  bytes: number
  blocks: number
  protocol: string
  ms: number
  peakRssMiB: number
}

/** One `autoretrieve fetch` into a fresh data dir; resolves with its summary line (bounded in time). */
function fetchOnce(dataDir: string, root: string, provider: string, protocol: Protocol): Promise<FetchSummary> {
  const args = ['--data-dir', dataDir, 'fetch', root, '--provider', provider, '-o', '/dev/null']
  if (protocol === 'graphsync') args.push('--protocol', 'graphsync')
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: nodeEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
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
    child.on('exit', (code) => {
      clearInterval(sampler)
      clearTimeout(timer)
      const last = stderr.trim().split('\n').at(-1) ?? ''
      if (code !== 0) return reject(new Error(`fetch over ${protocol} exited ${code}: ${stderr.slice(-2000)}`))
      try {
        resolve({ ...JSON.parse(last), peakRssMiB: Math.round(rss / 2 ** 20) })
      } catch {
        reject(new Error(`fetch over ${protocol}: no summary line in ${last}`))
      }
    })
  })
}

const work = await mkdtemp(join(tmpdir(), 'bench-graphsync-'))
const provider = { stop: async () => {} }
try {
  process.stderr.write(`building a ${sizeMiB} MiB UnixFS DAG...\n`)
  const fixture = await createUnixfsFixture({ size: sizeMiB * 1024 * 1024, chunkSize: 256 * 1024, seed: 91 })
  const carPath = join(work, 'dag.car')
  await writeFile(carPath, fixture.car)
  const root = fixture.root.toString()
  const proc = spawnNode(TESTKIT, ['provider', '--car', carPath, '--protocols', 'http,graphsync'])
  provider.stop = () => proc.stop()
  const info = await proc.firstJson<{ peerId: string; multiaddrs: string[]; httpUrl: string }>(120_000)
  const address: Record<Protocol, string> = {
    graphsync: info.multiaddrs[0],
    http: info.httpUrl
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
  const mbps = (xs: FetchSummary[]) => xs.reduce((a, x) => a + x.bytes / 1e6 / (x.ms / 1000), 0) / xs.length
  const gs = mbps(runs.graphsync)
  const http = mbps(runs.http)
  const summary = {
    bench: 'graphsync',
    sizeMiB,
    rounds,
    blocks: runs.http[0].blocks,
    graphsyncMBps: +gs.toFixed(1),
    httpMBps: +http.toFixed(1),
    ratio: +(gs / http).toFixed(2),
    graphsyncMs: runs.graphsync.map((x) => x.ms),
    httpMs: runs.http.map((x) => x.ms),
    fetchPeakRssMiB: {
      graphsync: Math.max(...runs.graphsync.map((x) => x.peakRssMiB)),
      http: Math.max(...runs.http.map((x) => x.peakRssMiB))
    },
    goal: 'graphsync >= 0.7x the HTTP throughput from the same provider'
  }
  console.log(JSON.stringify(summary, null, 2))
  await writeResult('graphsync', summary)
} finally {
  await provider.stop().catch(() => {})
  await rm(work, { recursive: true, force: true })
}
