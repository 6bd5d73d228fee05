import { execFileSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** When this bench process started (module load), and the machine's load then. */
const STARTED = { loadavg: loadavg(), at: new Date().toISOString() }

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/** Rounds to `digits` decimals, for figures a person reads. */
export const round = (x: number, digits = 0): number => +x.toFixed(digits)

/** The commit the bench ran on, and whether the tree had changes beside it. */
function commit(): { commit: string; dirty: boolean } {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    // The result files themselves do not count: an earlier bench of the same session wrote them.
    const status = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results'],
      {
        cwd: ROOT,
        encoding: 'utf8'
      }
    )
    return { commit: head, dirty: status.trim() !== '' }
  } catch {
    return { commit: 'unknown', dirty: true }
  }
}

/** How this process was started, relative to the repository (what to type to run it again). */
function command(): string {
  const script = relative(ROOT, process.argv[1] ?? '')
  return ['node', script, ...process.argv.slice(2)].join(' ')
}

/**
 * Records a benchmark's figures in bench/results/<name>.json (or $BENCH_RESULTS_DIR, which
 * bench/ab uses so that A/B runs leave the committed results alone), with what is needed to read
 * and reproduce them: the commit, the machine, the command, when, and the load average before and
 * after (another process on the cores shows there). The summary carries every sample and the
 * medians the script computed from them. Results are written here only, never by hand.
 */
export async function writeResult(
  name: string,
  summary: object,
  startedAt: { loadavg: number[]; at: string } = STARTED
): Promise<string> {
  const dir = process.env.BENCH_RESULTS_DIR || fileURLToPath(new URL('../results/', import.meta.url))
  await mkdir(dir, { recursive: true })
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version
  }
  const file = join(dir, `${name}.json`)
  const record = {
    ...summary,
    ...commit(),
    command: command(),
    machine,
    startedAt: startedAt.at,
    at: new Date().toISOString(),
    loadavg: { before: startedAt.loadavg.map((x) => round(x, 2)), after: loadavg().map((x) => round(x, 2)) }
  }
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`)
  return file
}
