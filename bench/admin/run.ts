// bench/admin: GET /api/v1/stats under load (autocannon, in-process) while the node serves a Helia
// client over Bitswap; Bitswap throughput with and without that load, in the same run. Two loads:
// as fast as autocannon goes (the endpoint's capacity while serving), and held at the goal's
// 5,000 req/s (what serving loses to a dashboard fleet polling at that rate).
// The request rate and latency count only responses that came while a transfer ran (the clients
// report their transfer's start and end): the figure is "while serving", not "while mostly idle".
// Each loaded round runs transfers back to back until `--seconds` of transfer time is covered.
//   node bench/admin/run.ts [--size-mib 32] [--seconds 5] [--rounds 3] [--database-url postgres://…]
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import autocannon from 'autocannon'
import { fetchWithClients, type RoundResult } from '../lib/clients.ts'
import { CLI, nodeEnv, startBenchNode } from '../lib/node.ts'
import { spawnNode } from '../lib/process.ts'
import { median, round, writeResult } from '../lib/results.ts'

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

const GOAL_RATE = 5_000
/** A bound on one loaded round, whatever the transfers do. */
const MAX_TRANSFERS_PER_ROUND = 50

interface LoadedRound {
  /** Bitswap throughput over the round's transfers (bytes over summed transfer time). */
  mbps: number
  transferMs: number
  /** Responses received while a transfer ran, per second of transfer time. */
  requestsPerSecond: number
  p99Ms: number
  errors: number
  non2xx: number
}

/**
 * Polls /api/v1/stats with autocannon (10 connections, optionally held at `rate` req/s) while
 * transfers run one after another; counts only the responses that arrive inside a transfer.
 */
async function loadedRound(node: { adminUrl: string; token: string; multiaddr: string }, root: string, rate?: number) {
  const responses: Array<{ at: number; ms: number; status: number }> = []
  let errors = 0
  let finished: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    finished = resolve
  })
  const instance = autocannon(
    {
      url: `${node.adminUrl}/api/v1/stats`,
      headers: { Authorization: `Bearer ${node.token}` },
      connections: 10,
      duration: 3_600, // stopped below, when the transfers are done
      ...(rate === undefined ? {} : { overallRate: rate })
    },
    () => finished()
  )
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    responses.push({ at: Date.now(), ms, status })
  })
  instance.on('reqError', () => {
    errors++
  })
  const transfers: RoundResult[] = []
  try {
    let transferMs = 0
    while (transferMs < seconds * 1000 && transfers.length < MAX_TRANSFERS_PER_ROUND) {
      const res = await fetchWithClients(node.multiaddr, root, 1)
      transfers.push(res)
      transferMs += res.endedAt - res.startedAt
    }
  } finally {
    instance.stop()
    await done
  }
  const inside = responses.filter((r) => transfers.some((t) => r.at >= t.startedAt && r.at <= t.endedAt))
  const transferMs = transfers.reduce((a, t) => a + (t.endedAt - t.startedAt), 0)
  const latencies = inside.map((r) => r.ms).sort((a, b) => a - b)
  return {
    mbps: transfers.reduce((a, t) => a + t.bytes, 0) / 1e6 / (transferMs / 1000),
    transferMs,
    requestsPerSecond: inside.length / (transferMs / 1000),
    p99Ms: latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] : 0,
    errors,
    non2xx: inside.filter((r) => r.status !== 200).length
  } satisfies LoadedRound
}

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
    // Rounds of quiet / full load / goal rate, in rotating order so drift hits each alike; medians.
    const kinds = ['quiet', 'max', 'goal'] as const
    const samples: Array<{ round: number; kind: (typeof kinds)[number] } & Partial<LoadedRound>> = []
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(k + r) % kinds.length]
        if (kind === 'quiet') {
          const res = await fetchWithClients(node.multiaddr, root, 1)
          samples.push({ round: r + 1, kind, mbps: round(res.mbps, 1), transferMs: res.endedAt - res.startedAt })
        } else {
          const res = await loadedRound(node, root, kind === 'goal' ? GOAL_RATE : undefined)
          samples.push({
            round: r + 1,
            kind,
            ...res,
            mbps: round(res.mbps, 1),
            requestsPerSecond: Math.round(res.requestsPerSecond)
          })
        }
        const last = samples.at(-1)!
        process.stderr.write(
          `round ${r + 1} ${kind}: ${last.mbps} MB/s${last.requestsPerSecond === undefined ? '' : `, ${last.requestsPerSecond} req/s while serving`}\n`
        )
      }
    }
    const of = (kind: (typeof kinds)[number], field: keyof LoadedRound) =>
      median(samples.filter((s) => s.kind === kind).map((s) => s[field] as number))
    const quiet = of('quiet', 'mbps')
    const summary = {
      bench: 'admin',
      sizeMiB,
      rounds,
      secondsOfTransferPerRound: seconds,
      // Medians over the rounds; request rates count only responses that came during a transfer.
      statsRequestsPerSecond: Math.round(of('max', 'requestsPerSecond')),
      statsLatencyP99Ms: of('max', 'p99Ms'),
      errors: samples.reduce((a, s) => a + (s.errors ?? 0) + (s.non2xx ?? 0), 0),
      bitswapMBpsQuiet: round(quiet, 1),
      bitswapMBpsUnderMaxLoad: round(of('max', 'mbps'), 1),
      bitswapDropAtMaxLoad: round(1 - of('max', 'mbps') / quiet, 2),
      goalRateRequestsPerSecond: Math.round(of('goal', 'requestsPerSecond')),
      goalRateLatencyP99Ms: of('goal', 'p99Ms'),
      bitswapMBpsAtGoalRate: round(of('goal', 'mbps'), 1),
      bitswapDropAtGoalRate: round(1 - of('goal', 'mbps') / quiet, 2),
      samples,
      database: values['database-url'] ? 'postgres' : 'pglite',
      goal: '>= 5000 req/s on /api/v1/stats while serving; Bitswap throughput drops by at most 10% (at 5000 req/s)'
    }
    console.log(JSON.stringify(summary, null, 2))
    await writeResult('admin', summary)
  } finally {
    await node.proc.stop()
  }
} finally {
  await rm(work, { recursive: true, force: true })
}
