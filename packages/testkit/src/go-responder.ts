import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { goPeerBinary } from './go-peers.ts'

// The Go retrieval provider of go/graphsync-responder (go-graphsync + go-data-transfer v2, as Boost
// and lotus-markets run them), built once by go/build.mjs and started as a child process for the
// interop tests and the graphsync benchmark. Without Go, starting it throws GoMissingError.

export interface GoResponder {
  peerId: string
  multiaddrs: string[]
  /** What the responder wrote on stderr so far (deal decisions and channel events). */
  stderr(): string
  /** SIGTERM, SIGKILL after 5 s; resolves with the exit code. */
  close(): Promise<number | null>
  pid: number
}

export interface GoResponderInit {
  /** CARv1 files to serve. */
  cars: Uint8Array[]
  /** Reject every deal with this message. */
  reject?: string
}

/** Starts the Go responder on 127.0.0.1 with the given CARs and waits for its JSON line (bounded). */
export async function startGoResponder(init: GoResponderInit): Promise<GoResponder> {
  const binary = await goPeerBinary('graphsync-responder')
  const dir = await mkdtemp(join(tmpdir(), 'go-responder-'))
  const args = ['--verbose']
  for (const [i, car] of init.cars.entries()) {
    const path = join(dir, `${i}.car`)
    await writeFile(path, car)
    args.push('--car', path)
  }
  if (init.reject !== undefined) args.push('--reject', init.reject)
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000)
  })
  const close = () => stop(child).finally(() => rm(dir, { recursive: true, force: true }))
  try {
    const info = await firstLine(child, () => stderr)
    return { ...info, stderr: () => stderr, close, pid: child.pid ?? 0 }
  } catch (err) {
    await close()
    throw err
  }
}

function firstLine(child: ChildProcess, stderr: () => string): Promise<{ peerId: string; multiaddrs: string[] }> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error(`graphsync-responder printed nothing in 30 s\n${stderr()}`)), 30_000)
    const onExit = (code: number | null) => fail(new Error(`graphsync-responder exited with ${code}\n${stderr()}`))
    const onData = (d: Buffer) => {
      out += d
      const end = out.indexOf('\n')
      if (end < 0) return
      cleanup()
      try {
        resolve(JSON.parse(out.slice(0, end)))
      } catch (cause) {
        reject(new Error(`graphsync-responder: not a JSON line: ${out.slice(0, end)}`, { cause }))
      }
    }
    const cleanup = () => {
      clearTimeout(timer)
      child.off('exit', onExit)
      child.stdout?.off('data', onData)
    }
    const fail = (err: Error) => {
      cleanup()
      reject(err)
    }
    child.once('exit', onExit)
    child.stdout?.on('data', onData)
  })
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
    child.kill('SIGTERM')
  })
}
