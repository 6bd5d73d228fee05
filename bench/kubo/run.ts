// bench/kubo: this node against kubo (the Go reference, pinned in packages/testkit/go/kubo), with
// kubo as the client every time, on loopback.
//   serve: a fresh kubo client runs `ipfs cat <root>` (to /dev/null) of a DAG held by our node
//          (imported as a CAR) and, alternating in the same round, of the same DAG held by a kubo.
//   miss:  the same fetch through a fresh node that holds nothing, retrieving from the kubo
//          holding the DAG, listed by the indexer stand-in once as a Bitswap provider and once as
//          an HTTP provider (its trustless gateway).
// Each sample: wall time of the client's `ipfs cat`, and the server's CPU seconds per GiB (user +
// system from /proc/<pid>/stat before and after); for a miss also the providing kubo's. Every
// sample is recorded, and the medians.
//   node bench/kubo/run.ts [--mib 64] [--rounds 3]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type KuboPeer, pseudoRandomBytes, startIndexer, startKubo } from '@autoretrieve/testkit'
import { type BenchNode, nodeEnv, startBenchNode } from '../lib/node.ts'
import { cpuTimeMs } from '../lib/process.ts'
import { median, writeResult } from '../lib/results.ts'

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '64' }, rounds: { type: 'string', default: '3' } }
})
const mib = Number(values.mib)
const rounds = Number(values.rounds)
const gib = mib / 1024
const timeoutMs = Number(process.env.BENCH_CLIENT_TIMEOUT_MS ?? 600_000)

interface Sample {
  round: number
  wallMs: number
  serverCpuSecPerGiB: number
  providerCpuSecPerGiB?: number
}

const summarize = (samples: Sample[]) => ({
  medianWallMs: Math.round(median(samples.map((s) => s.wallMs))),
  medianServerCpuSecPerGiB: +median(samples.map((s) => s.serverCpuSecPerGiB)).toFixed(3),
  ...(samples[0]?.providerCpuSecPerGiB !== undefined
    ? { medianProviderCpuSecPerGiB: +median(samples.map((s) => s.providerCpuSecPerGiB ?? 0)).toFixed(3) }
    : {}),
  samples
})

const work = await mkdtemp(join(tmpdir(), 'bench-kubo-'))
const closers: Array<() => Promise<unknown>> = []
const log = (line: string) => process.stderr.write(`${line}\n`)
try {
  // The kubo holding the DAG, imported with kubo's defaults for CIDv1 (256 KiB chunks, raw leaves).
  const holder = await startKubo()
  closers.push(() => holder.stop())
  log(`adding a ${mib} MiB file to kubo...`)
  const added = await holder.ipfs(['add', '-Q', '--cid-version=1'], { input: pseudoRandomBytes(mib * 2 ** 20, 91) })
  if (added.code !== 0) throw new Error(`ipfs add failed: ${added.stderr}`)
  const root = added.stdout.toString().trim()
  const car = await holder.ipfs(['dag', 'export', root], { timeoutMs: 300_000 })
  if (car.code !== 0) throw new Error(`ipfs dag export failed: ${car.stderr}`)

  const server = await startBenchNode(join(work, 'serve'))
  closers.push(() => server.proc.stop())
  const imported = await fetch(`${server.adminUrl}/api/v1/cache/import`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/vnd.ipld.car' },
    body: new Uint8Array(car.stdout)
  })
  if (imported.status !== 200) throw new Error(`cache import: HTTP ${imported.status} ${await imported.text()}`)
  const kuboVersion = (await holder.ipfs(['version', '--number'])).stdout.toString().trim()

  /** A fresh kubo client fetches the root from `serverAddr`; the CPU is read from `serverPid` (and `providerPid`). */
  const sample = async (
    round: number,
    serverAddr: string,
    serverPid: number,
    providerPid?: number
  ): Promise<Sample> => {
    const client: KuboPeer = await startKubo()
    try {
      const connected = await client.ipfs(['swarm', 'connect', serverAddr])
      if (connected.code !== 0) throw new Error(`swarm connect ${serverAddr}: ${connected.stderr}`)
      const cpu0 = cpuTimeMs(serverPid)
      const prov0 = providerPid ? cpuTimeMs(providerPid) : 0
      const started = performance.now()
      const res = await client.ipfs(['cat', root], { stdout: 'ignore', timeoutMs })
      const wallMs = performance.now() - started
      if (res.code !== 0) throw new Error(`ipfs cat failed: ${res.stderr}`)
      const perGiB = (ms: number) => +(ms / 1000 / gib).toFixed(3)
      return {
        round,
        wallMs: Math.round(wallMs),
        serverCpuSecPerGiB: perGiB(cpuTimeMs(serverPid) - cpu0),
        ...(providerPid ? { providerCpuSecPerGiB: perGiB(cpuTimeMs(providerPid) - prov0) } : {})
      }
    } finally {
      await client.stop()
    }
  }

  const holderTcp = holder.multiaddrs.find((a) => !a.includes('/ws'))!
  const serve = { node: [] as Sample[], kubo: [] as Sample[] }
  const miss = { bitswap: [] as Sample[], http: [] as Sample[] }
  const indexers = {
    bitswap: await startIndexer({
      providers: [{ peerId: holder.peerId, addrs: [holderTcp], protocols: ['bitswap'], cids: [root] }]
    }),
    http: await startIndexer({
      providers: [{ peerId: holder.peerId, addrs: [holder.gatewayMultiaddr], protocols: ['http'], cids: [root] }]
    })
  }
  closers.push(
    () => indexers.bitswap.close(),
    () => indexers.http.close()
  )

  /** A node that holds nothing, so that the fetch through it is a miss from the holder. */
  const missSample = async (round: number, protocol: 'bitswap' | 'http') => {
    const node: BenchNode = await startBenchNode(
      join(work, `miss-${protocol}-${round}`),
      [],
      nodeEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: indexers[protocol].url })
    )
    try {
      return await sample(round, node.multiaddr, node.pid, holder.pid)
    } finally {
      await node.proc.stop()
      await rm(join(work, `miss-${protocol}-${round}`), { recursive: true, force: true })
    }
  }

  for (let round = 1; round <= rounds; round++) {
    // Alternate which server goes first, so that neither always gets the warmer machine.
    const order = round % 2 ? (['node', 'kubo'] as const) : (['kubo', 'node'] as const)
    for (const which of order) {
      const s =
        which === 'node'
          ? await sample(round, server.multiaddr, server.pid)
          : await sample(round, holderTcp, holder.pid)
      serve[which].push(s)
      log(`round ${round} serve from ${which}: ${s.wallMs} ms, ${s.serverCpuSecPerGiB} server CPU s/GiB`)
    }
    for (const protocol of ['bitswap', 'http'] as const) {
      const s = await missSample(round, protocol)
      miss[protocol].push(s)
      log(`round ${round} miss over ${protocol}: ${s.wallMs} ms, ${s.serverCpuSecPerGiB} node CPU s/GiB`)
    }
  }

  const summary = {
    bench: 'kubo',
    kuboVersion,
    mib,
    rounds,
    client: 'kubo `ipfs cat` to /dev/null, a fresh kubo each sample',
    serve: { node: summarize(serve.node), kubo: summarize(serve.kubo) },
    miss: { bitswap: summarize(miss.bitswap), http: summarize(miss.http) },
    ratios: {
      serveNodeOverKuboWall: +(
        median(serve.node.map((s) => s.wallMs)) / median(serve.kubo.map((s) => s.wallMs))
      ).toFixed(2),
      serveNodeOverKuboCpu: +(
        median(serve.node.map((s) => s.serverCpuSecPerGiB)) / median(serve.kubo.map((s) => s.serverCpuSecPerGiB))
      ).toFixed(2),
      missBitswapOverServeKuboWall: +(
        median(miss.bitswap.map((s) => s.wallMs)) / median(serve.kubo.map((s) => s.wallMs))
      ).toFixed(2),
      missHttpOverServeKuboWall: +(
        median(miss.http.map((s) => s.wallMs)) / median(serve.kubo.map((s) => s.wallMs))
      ).toFixed(2)
    }
  }
  console.log(JSON.stringify(summary, null, 2))
  await writeResult('kubo', summary)
} finally {
  for (const close of closers.reverse()) await close().catch(() => {})
  await rm(work, { recursive: true, force: true })
}
