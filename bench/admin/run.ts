// bench/admin: GET /api/v1/stats under load (autocannon, in-process) while the node serves a Helia
// client over Bitswap; Bitswap throughput with and without that load, in the same run. Two loads:
// as fast as autocannon goes (the endpoint's capacity while serving), and held at the goal's
// 5,000 req/s (what serving loses to a dashboard fleet polling at that rate).
//   node bench/admin/run.ts [--size-mib 32] [--seconds 5] [--rounds 3] [--database-url postgres://…]
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import autocannon from 'autocannon'
import { fetchWithClients } from '../lib/clients.ts'
import { CLI, nodeEnv, startBenchNode } from '../lib/node.ts'
import { spawnNode } from '../lib/process.ts'
import { writeResult } from '../lib/results.ts'

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    'database-url': { type: 'string', default: '' }
  }
})
const sizeMiB = Number(values['size-mib'])
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)

/** Runs autocannon against the stats endpoint for `seconds`; resolves with its summary. */
export function runStatsLoad(init: {
  url: string
  token: string
  durationSeconds: number
  /** Requests per second across all connections; unset: as fast as it goes. */
  rate?: number
}): Promise<autocannon.Result> {
  return autocannon({
    url: `${init.url}/api/v1/stats`,
    headers: { Authorization: `Bearer ${init.token}` },
    connections: 10,
    duration: init.durationSeconds,
    ...(init.rate === undefined ? {} : { overallRate: init.rate })
  })
}

const GOAL_RATE = 5_000

const work = await mkdtemp(join(tmpdir(), 'bench-admin-'))
try {
  const fixture = await createUnixfsFixture({ size: sizeMiB * 1024 * 1024, chunkSize: 256 * 1024, seed: 91 })
  const carPath = join(work, 'dag.car')
  await writeFile(carPath, fixture.car)
  const dataDir = join(work, 'node')
  await spawnNode(CLI, ['--data-dir', dataDir, 'cache', 'import', carPath], nodeEnv()).firstJson(120_000)
  const dbArgs = values['database-url'] ? ['--database-url', values['database-url']] : []
  const node = await startBenchNode(dataDir, ['--disable-retrieval', ...dbArgs])
  try {
    const root = fixture.root.toString()
    // Under load: the client fetch runs while autocannon polls /api/v1/stats.
    const underLoad = async (rate?: number) => {
      const load = runStatsLoad({ url: node.adminUrl, token: node.token, durationSeconds: seconds, rate })
      const busy = await fetchWithClients(node.multiaddr, root, 1)
      return { stats: await load, mbps: busy.mbps }
    }
    // Rounds of quiet / full load / goal rate, in rotating order so drift hits each alike; medians.
    const kinds = ['quiet', 'max', 'goal'] as const
    const seen: Record<(typeof kinds)[number], Array<{ mbps: number; stats?: autocannon.Result }>> = {
      quiet: [],
      max: [],
      goal: []
    }
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(k + r) % kinds.length]
        const res =
          kind === 'quiet'
            ? { mbps: (await fetchWithClients(node.multiaddr, root, 1)).mbps }
            : await underLoad(kind === 'goal' ? GOAL_RATE : undefined)
        seen[kind].push(res)
        process.stderr.write(`round ${r + 1} ${kind}: ${res.mbps.toFixed(1)} MB/s\n`)
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    const medianRun = (xs: Array<{ mbps: number; stats?: autocannon.Result }>) => {
      const m = median(xs.map((x) => x.mbps))
      const stats = xs.map((x) => x.stats!)
      return {
        mbps: m,
        stats: {
          requests: { average: median(stats.map((s) => s.requests.average)) },
          latency: { p99: median(stats.map((s) => s.latency.p99)) },
          errors: stats.reduce((a, s) => a + s.errors, 0),
          non2xx: stats.reduce((a, s) => a + s.non2xx, 0)
        }
      }
    }
    const quiet = median(seen.quiet.map((x) => x.mbps))
    const max = medianRun(seen.max)
    const atGoal = medianRun(seen.goal)
    const summary = {
      bench: 'admin',
      sizeMiB,
      rounds,
      statsRequestsPerSecond: Math.round(max.stats.requests.average),
      statsLatencyP99Ms: max.stats.latency.p99,
      errors: max.stats.errors + max.stats.non2xx + atGoal.stats.errors + atGoal.stats.non2xx,
      bitswapMBpsQuiet: +quiet.toFixed(1),
      bitswapMBpsUnderMaxLoad: +max.mbps.toFixed(1),
      bitswapDropAtMaxLoad: +(1 - max.mbps / quiet).toFixed(2),
      goalRateRequestsPerSecond: Math.round(atGoal.stats.requests.average),
      goalRateLatencyP99Ms: atGoal.stats.latency.p99,
      bitswapMBpsAtGoalRate: +atGoal.mbps.toFixed(1),
      bitswapDropAtGoalRate: +(1 - atGoal.mbps / quiet).toFixed(2),
      goal: '>= 5000 req/s on /api/v1/stats; Bitswap throughput drops by at most 10% (at 5000 req/s)'
    }
    console.log(JSON.stringify(summary, null, 2))
    await writeResult('admin', summary)
  } finally {
    await node.proc.stop()
  }
} finally {
  await rm(work, { recursive: true, force: true })
}
