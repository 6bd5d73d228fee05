// The testkit CLI as its tests run it: one child process per subcommand, stopped with SIGTERM when
// the test ends, and the JSON line it prints once it listens.
import { spawn } from 'node:child_process'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
/** The stand-ins print their line within a second or two; this bounds a broken start. */
const FIRST_LINE_TIMEOUT_MS = 20_000

/** Starts `autoretrieve-testkit <args>` and answers its first stdout line, parsed as JSON. */
export async function startTestkitCli<T = Record<string, unknown>>(t: TestContext, args: string[]): Promise<T> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
  )
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('no output in 20 s')), FIRST_LINE_TIMEOUT_MS)
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('\n')) {
        clearTimeout(timer)
        resolve(out.split('\n')[0])
      }
    })
  })
  return JSON.parse(line) as T
}
