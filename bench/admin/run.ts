// bench/admin: GET /api/v1/stats under load (autocannon, in-process) while the node serves a Helia
// client over Bitswap; Bitswap throughput with and without that load, in the same run.
//   node bench/admin/run.ts [--size-mib 32] [--seconds 5] [--database-url postgres://…]
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
    'database-url': { type: 'string', default: '' }
  }
})
const sizeMiB = Number(values['size-mib'])
const seconds = Number(values.seconds)

/** Runs autocannon against the stats endpoint for `seconds`; resolves with its summary. */
export function runStatsLoad(init: {
  url: string
  token: string
  durationSeconds: number
}): Promise<autocannon.Result> {
  return autocannon({
    url: `${init.url}/api/v1/stats`,
    headers: { Authorization: `Bearer ${init.token}` },
    connections: 10,
    duration: init.durationSeconds
  })
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
    // Baseline: Bitswap alone, twice, keep the better.
    const quiet = Math.max(
      (await fetchWithClients(node.multiaddr, root, 1)).mbps,
      (await fetchWithClients(node.multiaddr, root, 1)).mbps
    )
    // Under load: the client fetch runs while autocannon hammers /api/v1/stats.
    const load = runStatsLoad({ url: node.adminUrl, token: node.token, durationSeconds: seconds })
    const busy = await fetchWithClients(node.multiaddr, root, 1)
    const stats = await load
    const summary = {
      bench: 'admin',
      sizeMiB,
      statsRequestsPerSecond: Math.round(stats.requests.average),
      statsLatencyP99Ms: stats.latency.p99,
      errors: stats.errors + stats.non2xx,
      bitswapMBpsQuiet: +quiet.toFixed(1),
      bitswapMBpsUnderLoad: +busy.mbps.toFixed(1),
      bitswapDrop: +(1 - busy.mbps / quiet).toFixed(2),
      goal: '>= 5000 req/s on /api/v1/stats; Bitswap throughput drops by at most 10%'
    }
    console.log(JSON.stringify(summary, null, 2))
    await writeResult('admin', summary)
  } finally {
    await node.proc.stop()
  }
} finally {
  await rm(work, { recursive: true, force: true })
}
