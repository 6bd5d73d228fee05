import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BUILD = fileURLToPath(new URL('../go/build.mjs', import.meta.url))

/** Thrown when `go` is not on PATH: the interop tests fail with it, they never skip. */
export class GoMissingError extends Error {
  static override name = 'GoMissingError'
  override name = 'GoMissingError'
  code = 'ERR_GO_MISSING'
}

const built = new Map<string, Promise<string>>()

/**
 * The path of a Go test peer's binary (a directory under packages/testkit/go with a target.json,
 * named by directory or binary), built by go/build.mjs into its cache on first use: later runs,
 * and scripts/test.mjs's build step, reuse it. Throws GoMissingError without Go.
 */
export function goPeerBinary(name: string): Promise<string> {
  let found = built.get(name)
  if (found === undefined) {
    found = buildOnce(name)
    built.set(name, found)
    found.catch(() => built.delete(name))
  }
  return found
}

async function buildOnce(name: string): Promise<string> {
  if (spawnSync('go', ['version']).status !== 0)
    throw new GoMissingError(
      'Go is needed for the interop tests: install Go >= 1.22 (https://go.dev/dl/; a Go older than 1.26.5 fetches the toolchain kubo v0.43.1 asks for) and put `go` on PATH'
    )
  const child = spawn(process.execPath, [BUILD, '--print', name], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', resolve)
  })
  if (code !== 0) throw new Error(`building the Go test peer ${name} failed (exit ${code}):\n${stderr}`)
  return stdout.trim().split('\n').at(-1) ?? ''
}

export interface IpfsResult {
  code: number | null
  stdout: Buffer
  stderr: string
}

export interface KuboPeer {
  peerId: string
  /** Swarm addresses with /p2p/<peerId>: TCP and WebSockets on 127.0.0.1. */
  multiaddrs: string[]
  /** The RPC API, http://127.0.0.1:PORT. */
  apiUrl: string
  /** The HTTP gateway (trustless CAR responses included), http://127.0.0.1:PORT. */
  gatewayUrl: string
  /** The gateway as IPNI advertises an HTTP provider, /ip4/127.0.0.1/tcp/PORT/http. */
  gatewayMultiaddr: string
  /** PID of the daemon, to read its CPU time from /proc. */
  pid: number
  /**
   * Runs the ipfs CLI against this daemon. Rejects past timeoutMs (default 60 s) or on abort;
   * a non-zero exit resolves (check `code`). stdout: 'ignore' discards it (large transfers).
   */
  ipfs(
    args: string[],
    options?: { timeoutMs?: number; input?: Uint8Array; stdout?: 'ignore'; signal?: AbortSignal }
  ): Promise<IpfsResult>
  /** What the daemon has printed so far (stdout and stderr). */
  output(): string
  /** Stops the daemon (SIGTERM, SIGKILL after 5 s) and removes its repository. */
  stop(): Promise<void>
}

/**
 * Starts a kubo daemon as the interop tests need it: a fresh repository in a temp dir
 * (`--profile test`: no bootstrap, no mDNS, no AutoTLS/AutoConf, loopback API and gateway on
 * port 0), Routing.Type none (no DHT: peers meet only by explicit `swarm connect`), swarm on TCP
 * and WebSockets on 127.0.0.1 port 0, online (bitswap talks to connected peers; `--offline`
 * would stop it), GC off, telemetry off. Ready once the daemon says so, bounded in time.
 */
export async function startKubo(options: { signal?: AbortSignal; readyTimeoutMs?: number } = {}): Promise<KuboPeer> {
  const binary = await goPeerBinary('kubo')
  const dir = await mkdtemp(join(tmpdir(), 'autoretrieve-kubo-'))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    IPFS_PATH: dir,
    IPFS_TELEMETRY: 'off',
    GOLOG_LOG_LEVEL: 'error'
  }
  const run = (
    args: string[],
    opts: { timeoutMs?: number; input?: Uint8Array; stdout?: 'ignore'; signal?: AbortSignal } = {}
  ) =>
    new Promise<IpfsResult>((resolve, reject) => {
      const signal = AbortSignal.any([
        AbortSignal.timeout(opts.timeoutMs ?? 60_000),
        ...(opts.signal ? [opts.signal] : [])
      ])
      const child = spawn(binary, args, {
        env,
        stdio: [opts.input ? 'pipe' : 'ignore', opts.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe']
      })
      const out: Buffer[] = []
      let stderr = ''
      child.stdout?.on('data', (d: Buffer) => out.push(d))
      child.stderr?.on('data', (d) => {
        stderr += d
      })
      const onAbort = () => child.kill('SIGKILL')
      signal.addEventListener('abort', onAbort, { once: true })
      child.on('error', reject)
      child.on('close', (code) => {
        signal.removeEventListener('abort', onAbort)
        if (signal.aborted) reject(new Error(`ipfs ${args.join(' ')}: aborted (${signal.reason})\n${stderr}`))
        else resolve({ code, stdout: Buffer.concat(out), stderr })
      })
      if (opts.input) child.stdin?.end(opts.input)
    })
  const must = async (args: string[]) => {
    const res = await run(args)
    if (res.code !== 0) throw new Error(`ipfs ${args.join(' ')} failed (exit ${res.code}):\n${res.stderr}`)
    return res
  }

  try {
    await must(['init', '--profile', 'test', '--empty-repo'])
    const configPath = join(dir, 'config')
    const config = JSON.parse(await readFile(configPath, 'utf8'))
    config.Addresses.Swarm = ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']
    config.Addresses.API = '/ip4/127.0.0.1/tcp/0'
    config.Addresses.Gateway = '/ip4/127.0.0.1/tcp/0'
    config.Routing = { ...config.Routing, Type: 'none' }
    config.Bootstrap = []
    await writeFile(configPath, JSON.stringify(config, null, 2))
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }

  const daemon = spawn(binary, ['daemon', '--enable-gc=false', '--migrate=false'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  daemon.stdout.on('data', (d) => {
    output += d
  })
  daemon.stderr.on('data', (d) => {
    output += d
  })
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()))
  let stopped = false
  const stop = async () => {
    if (!stopped) {
      stopped = true
      if (daemon.exitCode === null && daemon.signalCode === null) {
        daemon.kill('SIGTERM')
        const timer = setTimeout(() => daemon.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(timer)
      }
    }
    await rm(dir, { recursive: true, force: true })
  }
  options.signal?.addEventListener('abort', () => void stop(), { once: true })

  try {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000)
    while (!output.includes('Daemon is ready')) {
      if (daemon.exitCode !== null || daemon.signalCode !== null)
        throw new Error(`kubo daemon exited early (${daemon.exitCode ?? daemon.signalCode}):\n${output}`)
      if (options.signal?.aborted) throw new Error('kubo start aborted')
      if (Date.now() > deadline) throw new Error(`kubo daemon not ready in time:\n${output}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const api = /RPC API server listening on \/ip4\/([\d.]+)\/tcp\/(\d+)/.exec(output)
    const gateway = /Gateway server listening on \/ip4\/([\d.]+)\/tcp\/(\d+)/.exec(output)
    if (api === null || gateway === null)
      throw new Error(`kubo did not say where its API and gateway listen:\n${output}`)
    const apiUrl = `http://${api[1]}:${api[2]}`
    const res = await fetch(`${apiUrl}/api/v0/id`, { method: 'POST', signal: AbortSignal.timeout(10_000) })
    const id = (await res.json()) as { ID: string; Addresses: string[] | null }
    return {
      peerId: id.ID,
      multiaddrs: (id.Addresses ?? []).filter((a) => a.startsWith('/ip4/127.0.0.1/')),
      apiUrl,
      gatewayUrl: `http://${gateway[1]}:${gateway[2]}`,
      gatewayMultiaddr: `/ip4/${gateway[1]}/tcp/${gateway[2]}/http`,
      pid: daemon.pid ?? 0,
      ipfs: run,
      output: () => output,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
