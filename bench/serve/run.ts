// bench/serve: a 64 MiB UnixFS DAG (256 KiB raw leaves) served over Bitswap to 1 and to 4
// concurrent Helia clients, by autoretrieve and by a plain Helia node (@helia/bitswap, memory
// blockstore) in the same run, alternating which goes first. Reports aggregate MB/s, the ratio
// autoretrieve/Helia (medians over the rounds), each server's CPU per GiB and peak RSS, and every round.
//   node bench/serve/run.ts [--size-mib 64] [--rounds 2] [--clients 1,4] [--database-url postgres://…]
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createUnixfsFixture } from '@autoretrieve/testkit'
import { fetchWithClients, type RoundResult } from '../lib/clients.ts'
import { CLI, nodeEnv, startBenchNode } from '../lib/node.ts'
import { cpuTimeMs, freePort, peakRss, spawnNode } from '../lib/process.ts'
import { median, round, writeResult } from '../lib/results.ts'

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '2' },
    clients: { type: 'string', default: '1,4' },
    // With a PostgreSQL URL the node's RSS is the serve path's own; the embedded PGlite adds ~60 MiB (bench/footprint).
    'database-url': { type: 'string', default: '' }
  }
})
const sizeMiB = Number(values['size-mib'])
const rounds = Number(values.rounds)
const clientCounts = values.clients.split(',').map(Number)

const work = await mkdtemp(join(tmpdir(), 'bench-serve-'))
try {
  process.stderr.write(`building a ${sizeMiB} MiB UnixFS DAG...\n`)
  const fixture = await createUnixfsFixture({ size: sizeMiB * 1024 * 1024, chunkSize: 256 * 1024 })
  const carPath = join(work, 'dag.car')
  await writeFile(carPath, fixture.car)
  const root = fixture.root.toString()

  // autoretrieve: import into the cache, then serve with retrieval disabled (pure serve path).
  const dataDir = join(work, 'node')
  const imp = spawnNode(CLI, ['--data-dir', dataDir, 'cache', 'import', carPath], nodeEnv())
  await imp.firstJson(120_000)
  const dbArgs = values['database-url'] ? ['--database-url', values['database-url']] : []
  const ours = await startBenchNode(dataDir, ['--disable-retrieval', ...dbArgs])
  const heliaServer = spawnNode(fileURLToPath(new URL('../lib/helia-server.ts', import.meta.url)), [
    carPath,
    String(await freePort())
  ])
  const helia = await heliaServer.firstJson<{ multiaddr: string }>(120_000)

  const results: Record<string, RoundResult[]> = {}
  // The server's CPU time per round (the clients report their own): on 2 cores the round is CPU-bound.
  const serverCpuMs: Record<string, number[]> = {}
  for (const n of clientCounts) {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['autoretrieve', 'helia'] as const) : (['helia', 'autoretrieve'] as const)
      for (const who of order) {
        const serverPid = who === 'autoretrieve' ? ours.pid : (heliaServer.child.pid ?? 0)
        const cpuBefore = cpuTimeMs(serverPid)
        const res = await fetchWithClients(who === 'autoretrieve' ? ours.multiaddr : helia.multiaddr, root, n)
        serverCpuMs[`${who}:${n}`] = [...(serverCpuMs[`${who}:${n}`] ?? []), cpuTimeMs(serverPid) - cpuBefore]
        if (res.bytes !== n * fixture.bytes.byteLength)
          throw new Error(`${who}: got ${res.bytes} bytes, expected ${n * fixture.bytes.byteLength}`)
        const key = `${who}:${n}`
        results[key] = [...(results[key] ?? []), res]
        process.stderr.write(`${who} x${n} round ${r + 1}: ${res.mbps.toFixed(1)} MB/s\n`)
      }
    }
  }
  const oursRss = peakRss(ours.pid)
  const heliaRss = peakRss(heliaServer.child.pid ?? 0)
  await ours.proc.stop()
  await heliaServer.stop()

  const cpuS = (who: string, n: number) => ({
    server: round(median(serverCpuMs[`${who}:${n}`]) / 1000, 2),
    clients: round(median(results[`${who}:${n}`].map((r) => r.clientCpuMs)) / 1000, 2)
  })
  const rows = clientCounts.map((n) => {
    const a = median(results[`autoretrieve:${n}`].map((r) => r.mbps))
    const h = median(results[`helia:${n}`].map((r) => r.mbps))
    const cpu = { autoretrieve: cpuS('autoretrieve', n), helia: cpuS('helia', n) }
    return {
      clients: n,
      autoretrieveMBps: round(a, 1),
      heliaMBps: round(h, 1),
      ratio: round(a / h, 2),
      // CPU seconds per round (median); when a round saturates the cores its time is about its CPU
      // over the core count, so Helia's total over our clients' alone bounds the ratio even if
      // our server cost nothing.
      cpuSeconds: cpu,
      // The server's own CPU per GiB served: the figure that holds when clients share the cores.
      serverCpuSecondsPerGiB: {
        autoretrieve: round(cpu.autoretrieve.server / ((n * fixture.bytes.byteLength) / 2 ** 30), 2),
        helia: round(cpu.helia.server / ((n * fixture.bytes.byteLength) / 2 ** 30), 2)
      },
      ratioBoundIfServerFree: round((cpu.helia.server + cpu.helia.clients) / cpu.autoretrieve.clients, 2)
    }
  })
  // Every round as it ran, in order: what the medians above come from.
  const samples = clientCounts.flatMap((n) =>
    (['autoretrieve', 'helia'] as const).flatMap((who) =>
      results[`${who}:${n}`].map((r, i) => ({
        server: who,
        clients: n,
        round: i + 1,
        mbps: round(r.mbps, 1),
        wallMs: Math.round(r.wallMs),
        serverCpuMs: Math.round(serverCpuMs[`${who}:${n}`][i]),
        clientCpuMs: Math.round(r.clientCpuMs)
      }))
    )
  )
  const summary = {
    bench: 'serve',
    sizeMiB,
    rounds,
    database: values['database-url'] ? 'postgres' : 'pglite',
    rows,
    samples,
    peakRssMiB: { autoretrieve: +(oursRss / 2 ** 20).toFixed(0), helia: +(heliaRss / 2 ** 20).toFixed(0) },
    goal: 'with 4 clients >= 1.5x the Helia node; autoretrieve peak RSS <= 250 MiB'
  }
  console.table(rows.map(({ cpuSeconds, ...r }) => r))
  console.log(JSON.stringify(summary))
  await writeResult('serve', summary)
} finally {
  await rm(work, { recursive: true, force: true })
}
