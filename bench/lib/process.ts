import { type ChildProcess, spawn } from 'node:child_process'
import { appendFileSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** A free TCP port on loopback (bound and released; fine for a benchmark on an idle machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** Peak resident set (VmHWM) of a live process, in bytes; 0 when unknown. */
export function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** CPU time (user + system) a live process has used so far, in ms; 0 when unknown. */
export function cpuTimeMs(pid: number): number {
  try {
    // Fields after the command name: state is 3rd, utime 14th, stime 15th (in clock ticks, USER_HZ = 100).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return 0
  }
}

export interface Spawned {
  child: ChildProcess
  /** Resolves with the first stdout line that parses as JSON. */
  firstJson<T = unknown>(timeoutMs?: number): Promise<T>
  stop(): Promise<void>
}

/** Spawns `node <script> ...args` with the current Node, stderr passed through on failure only. */
export function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    if (process.env.BENCH_STDERR_FILE) appendFileSync(process.env.BENCH_STDERR_FILE, d)
    stderr += d
    if (stderr.length > 64_000) stderr = stderr.slice(-32_000)
  })
  let buffer = ''
  const lines: string[] = []
  const waiters: Array<(line: string) => void> = []
  child.stdout?.on('data', (d) => {
    buffer += d
    let i = buffer.indexOf('\n')
    while (i >= 0) {
      const line = buffer.slice(0, i)
      buffer = buffer.slice(i + 1)
      const w = waiters.shift()
      if (w) w(line)
      else lines.push(line)
      i = buffer.indexOf('\n')
    }
  })
  const nextLine = () =>
    new Promise<string>((resolve) => {
      const l = lines.shift()
      if (l !== undefined) resolve(l)
      else waiters.push(resolve)
    })
  return {
    child,
    async firstJson<T>(timeoutMs = 60_000): Promise<T> {
      let timer: NodeJS.Timeout | undefined
      let onExit: ((code: number | null) => void) | undefined
      const failure = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${script}: no JSON line in ${timeoutMs} ms\n${stderr}`)), timeoutMs)
        onExit = (code) => reject(new Error(`${script} exited with ${code}\n${stderr}`))
        child.once('exit', onExit)
      })
      try {
        while (true) {
          const line = await Promise.race([nextLine(), failure])
          try {
            return JSON.parse(line) as T
          } catch {}
        }
      } finally {
        // Nothing may fire after we return: a late rejection would crash the benchmark.
        clearTimeout(timer)
        if (onExit) child.off('exit', onExit)
        failure.catch(() => {})
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000)
        child.once('exit', () => {
          clearTimeout(t)
          resolve()
        })
        child.kill('SIGTERM')
      })
  }
}
