// bench/ab: the same bench run alternately on an older commit (A, "base") and on this checkout (B),
// in one script, so that a claim like "no slower than before" comes from runs made side by side on
// the same machine in the same minutes. Writes bench/results/ab-<bench>.json with both commits,
// every run's key figures and their medians (the full result of each run is kept too).
//   node bench/ab/run.ts --base <commit> --bench <serve|miss|admin|graphsync> [--pairs 3] [-- <bench args>]
// The base is checked out into a temporary worktree with its own dependencies (pnpm, offline
// first) and removed at the end. Pairs alternate which side goes first.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median, round, writeResult } from '../lib/results.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const dashDash = process.argv.indexOf('--')
const benchArgs = dashDash >= 0 ? process.argv.slice(dashDash + 1) : []
const { values } = parseArgs({
  args: dashDash >= 0 ? process.argv.slice(2, dashDash) : process.argv.slice(2),
  options: {
    base: { type: 'string' },
    bench: { type: 'string' },
    pairs: { type: 'string', default: '3' }
  }
})
if (!values.base || !values.bench) {
  process.stderr.write(
    'usage: node bench/ab/run.ts --base <commit> --bench <serve|miss|admin|graphsync> [--pairs 3] [-- <bench args>]\n'
  )
  process.exit(2)
}
const bench = values.bench
const pairs = Number(values.pairs)

// biome-ignore lint/suspicious/noExplicitAny: bench results are JSON of several shapes and ages
type Json = any
/** The figures compared for each bench, read from a result file (old and new layouts alike). */
const FIGURES: Record<string, Record<string, (r: Json) => number | undefined>> = {
  serve: {
    mbps1: (r) => r.rows?.find((x: Json) => x.clients === 1)?.autoretrieveMBps,
    mbps4: (r) => r.rows?.find((x: Json) => x.clients === 4)?.autoretrieveMBps,
    ratioVsHelia4: (r) => r.rows?.find((x: Json) => x.clients === 4)?.ratio,
    serverCpuSeconds4: (r) => r.rows?.find((x: Json) => x.clients === 4)?.cpuSeconds?.autoretrieve?.server,
    peakRssMiB: (r) => r.peakRssMiB?.autoretrieve
  },
  miss: {
    missOverSlowerRatio: (r) => r.missOverSlowerRatio,
    missMs: (r) => r.missMs,
    cacheHitMs: (r) => r.cacheHitMs,
    nodeMissCpuMs: (r) => r.cpuMs?.miss?.node,
    rootProbeNodeAddedMs: (r) => r.rootProbe?.nodeAddedMs,
    manyMs: (r) => r.many?.ms
  },
  admin: {
    statsRequestsPerSecond: (r) => r.statsRequestsPerSecond,
    bitswapDropAtGoalRate: (r) => r.bitswapDropAtGoalRate
  },
  graphsync: {
    graphsyncMBps: (r) => r.graphsyncMBps,
    httpMBps: (r) => r.httpMBps,
    ratio: (r) => r.ratio
  }
}
const figures = FIGURES[bench]
if (!figures) {
  process.stderr.write(`bench/ab: no figures defined for ${bench} (one of ${Object.keys(FIGURES).join(', ')})\n`)
  process.exit(2)
}

function git(args: string[], cwd = ROOT): string {
  const res = spawnSync('git', args, { cwd, encoding: 'utf8' })
  if (res.status !== 0) throw new Error(`git ${args.join(' ')}: ${res.stderr.trim()}`)
  return res.stdout.trim()
}

/** Runs one side's bench script; resolves with the result file it wrote. */
async function runSide(dir: string, resultsDir: string): Promise<Json> {
  const script = join(dir, 'bench', bench, 'run.ts')
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...benchArgs], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, BENCH_RESULTS_DIR: resultsDir }
    })
    child.on('error', reject)
    child.on('exit', (c) => resolve(c ?? 1))
  })
  if (code !== 0) throw new Error(`${script} exited with ${code}`)
  // An older base may not know BENCH_RESULTS_DIR and write into its own bench/results/.
  const own = join(resultsDir, `${bench}.json`)
  const file = existsSync(own) ? own : join(dir, 'bench', 'results', `${bench}.json`)
  const result = JSON.parse(await readFile(file, 'utf8'))
  await rm(own, { force: true })
  return result
}

const baseCommit = git(['rev-parse', `${values.base}^{commit}`])
const work = await mkdtemp(join(tmpdir(), 'bench-ab-'))
const baseDir = join(work, 'base')
try {
  process.stderr.write(`bench/ab: checking out ${baseCommit} into ${baseDir}\n`)
  git(['worktree', 'add', '--detach', baseDir, baseCommit])
  const install = spawnSync('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], {
    cwd: baseDir,
    stdio: 'inherit'
  })
  if (install.status !== 0)
    throw new Error('pnpm install in the base worktree failed (is pnpm on PATH? npm run bench puts it there)')

  const sides = { base: baseDir, head: ROOT } as const
  const runs: Array<{
    pair: number
    side: keyof typeof sides
    figures: Record<string, number | undefined>
    result: Json
  }> = []
  for (let p = 0; p < pairs; p++) {
    const order = p % 2 === 0 ? (['base', 'head'] as const) : (['head', 'base'] as const)
    for (const side of order) {
      process.stderr.write(`bench/ab: pair ${p + 1}, ${side}\n`)
      const result = await runSide(sides[side], join(work, 'results'))
      const picked = Object.fromEntries(Object.entries(figures).map(([k, f]) => [k, f(result)]))
      runs.push({ pair: p + 1, side, figures: picked, result })
      process.stderr.write(`bench/ab: pair ${p + 1}, ${side}: ${JSON.stringify(picked)}\n`)
    }
  }
  const compared = Object.fromEntries(
    Object.keys(figures).map((k) => {
      const of = (side: string) =>
        runs.filter((r) => r.side === side && typeof r.figures[k] === 'number').map((r) => r.figures[k] as number)
      const base = of('base')
      const head = of('head')
      return [
        k,
        {
          base,
          head,
          baseMedian: median(base),
          headMedian: median(head),
          headOverBase: round(median(head) / median(base), 3)
        }
      ]
    })
  )
  const summary = {
    bench: `ab-${bench}`,
    base: { rev: values.base, commit: baseCommit },
    pairs,
    benchArgs,
    compared,
    runs
  }
  console.log(JSON.stringify({ base: baseCommit, compared }, null, 2))
  await writeResult(`ab-${bench}`, summary)
} finally {
  spawnSync('git', ['worktree', 'remove', '--force', baseDir], { cwd: ROOT })
  await rm(work, { recursive: true, force: true })
}
