import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

// The Go retrieval provider of packages/testkit/go/graphsync-responder (go-graphsync +
// go-data-transfer v2, as Boost and lotus-markets run them), built on first use and started as a
// child process for the interop tests and the graphsync benchmark.

const SOURCE_DIR = fileURLToPath(new URL('../../../packages/testkit/go/graphsync-responder/', import.meta.url))
const run = promisify(execFile)

async function goVersion(): Promise<string> {
  try {
    return (await run('go', ['version'])).stdout.trim()
  } catch (cause) {
    throw new Error(
      'Go is needed for the interop tests (packages/testkit/go/graphsync-responder): install Go >= 1.23 ' +
        'and put `go` on PATH, or set AUTORETRIEVE_GO_RESPONDER_BIN to a built graphsync-responder',
      { cause }
    )
  }
}

/** A digest of what the binary is built from: go.mod, go.sum, the sources and the Go version. */
async function sourceDigest(version: string): Promise<string> {
  const hash = createHash('sha256').update(version)
  const names = (await readdir(SOURCE_DIR)).filter((n) => n.endsWith('.go') || n === 'go.mod' || n === 'go.sum')
  for (const name of names.sort()) hash.update(`\0${name}\0`).update(await readFile(join(SOURCE_DIR, name)))
  return hash.digest('hex').slice(0, 16)
}

let building: Promise<string> | undefined

/**
 * The graphsync-responder binary: AUTORETRIEVE_GO_RESPONDER_BIN when set; otherwise built once
 * into `${AUTORETRIEVE_GO_CACHE:-~/.cache/autoretrieve/go}/graphsync-responder-<digest>` and reused
 * while the sources and the Go version stay the same. Throws when Go is missing: the interop tests
 * fail rather than skip.
 */
export function goResponderBinary(): Promise<string> {
  const given = process.env.AUTORETRIEVE_GO_RESPONDER_BIN
  if (given) return Promise.resolve(given)
  building ??= (async () => {
    const version = await goVersion()
    const cacheDir = process.env.AUTORETRIEVE_GO_CACHE ?? join(homedir(), '.cache', 'autoretrieve', 'go')
    const binary = join(cacheDir, `graphsync-responder-${await sourceDigest(version)}`)
    if (
      await stat(binary).then(
        (s) => s.isFile(),
        () => false
      )
    )
      return binary
    await mkdir(cacheDir, { recursive: true })
    // Built beside its final name and renamed, so a concurrent run never sees half a binary.
    const partial = `${binary}.${process.pid}.partial`
    try {
      await run('go', ['build', '-mod=readonly', '-o', partial, '.'], {
        cwd: SOURCE_DIR,
        maxBuffer: 16 * 1024 * 1024,
        timeout: 15 * 60_000
      })
      await rename(partial, binary)
    } catch (cause) {
      await rm(partial, { force: true })
      throw new Error(`go build of ${SOURCE_DIR} failed: ${(cause as { stderr?: string }).stderr ?? cause}`, { cause })
    }
    return binary
  })()
  building.catch(() => {
    building = undefined
  })
  return building
}

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
  const binary = await goResponderBinary()
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
