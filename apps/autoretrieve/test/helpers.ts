import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { PROTOCOL_120 } from '@autoretrieve/bitswap'
import { createHeliaPeer, type HeliaPeer } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { CID } from 'multiformats/cid'
import postgres from 'postgres'

export const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))

/** Daemons by data dir: a scratch dir is removed only once what runs on it has stopped. */
const daemonsByDir = new Map<string, Set<() => Promise<unknown>>>()

/** A fresh data dir under the OS temp dir, removed after the test. */
export async function tempDataDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'autoretrieve-test-'))
  const dataDir = join(dir, 'data')
  // This hook runs before the daemon's own (hooks run in the order they were added), and a node
  // still running writes into its dir (its block log, database and runtime file).
  t.after(async () => {
    await Promise.all([...(daemonsByDir.get(dataDir) ?? [])].map((stop) => stop()))
    daemonsByDir.delete(dataDir)
    await rm(dir, { recursive: true, force: true })
  })
  return dataDir
}

/** Environment for a CLI child: loopback only, no DHT, ephemeral ports, nothing inherited that changes config. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' }
  return {
    ...env,
    AUTORETRIEVE_LISTEN: '/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0/ws',
    AUTORETRIEVE_ADMIN_LISTEN: '127.0.0.1:0',
    // The gateway's default (0.0.0.0:8081) is public and fixed: tests bind it on loopback, any port.
    AUTORETRIEVE_GATEWAY_LISTEN: '127.0.0.1:0',
    AUTORETRIEVE_ROUTING_TABLE_TYPE: 'disabled',
    // Lotus (f0 miner addresses): never the public default (wss://api.chain.love), which a test
    // would reach off loopback and wait on; a loopback port nobody listens on refuses at once.
    // Tests that need Lotus pass the stand-in's FULLNODE_API_INFO.
    FULLNODE_API_INFO: 'http://127.0.0.1:1/rpc/v1',
    ...extra
  }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI to completion (bounded by timeoutMs). */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`autoretrieve ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export interface DaemonHandle {
  child: ChildProcess
  adminUrl: string
  /** The trustless gateway (loopback, any port, with cliEnv); undefined when turned off. */
  gatewayUrl?: string
  peerId: string
  multiaddrs: string[]
  token: string
  stderr(): string
  /** Sends a signal and resolves with the exit code (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; ms: number }>
}

/** Starts `autoretrieve run` and waits (bounded) until its runtime file names the admin URL. */
export async function startDaemon(
  t: { after(fn: () => Promise<unknown>): void },
  dataDir: string,
  env: NodeJS.ProcessEnv,
  args: string[] = []
): Promise<DaemonHandle> {
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, ...args, 'run'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  let exited = false
  child.on('exit', () => {
    exited = true
  })
  const stop = (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) =>
    new Promise<{ code: number | null; ms: number }>((resolve) => {
      if (exited || child.exitCode !== null) return resolve({ code: child.exitCode, ms: 0 })
      const started = Date.now()
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      child.once('exit', (code) => {
        clearTimeout(timer)
        resolve({ code, ms: Date.now() - started })
      })
      child.kill(signal)
    })
  t.after(() => stop('SIGKILL'))
  const stoppers = daemonsByDir.get(dataDir) ?? new Set()
  stoppers.add(() => stop('SIGKILL'))
  daemonsByDir.set(dataDir, stoppers)
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (exited) throw new Error(`daemon exited early (code ${child.exitCode}):\n${stderr}`)
    try {
      const info = JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8'))
      if (info.pid === child.pid) {
        const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()
        return {
          child,
          adminUrl: info.adminUrl,
          gatewayUrl: info.gatewayUrl,
          peerId: info.peerId,
          multiaddrs: info.multiaddrs,
          token,
          stderr: () => stderr,
          stop
        }
      }
    } catch {}
    await sleep(100)
  }
  throw new Error(`daemon did not become ready in 60 s:\n${stderr}`)
}

/**
 * The server PostgreSQL tests use: a database they may create others on. The same variable as
 * packages/store/test/engines.ts reads.
 */
export const TEST_POSTGRES_URL =
  process.env.AUTORETRIEVE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Whether a test may skip for a missing service: only on a developer's explicit opt-out, and never in CI. */
export const ALLOW_SKIP =
  process.env.AUTORETRIEVE_TEST_ALLOW_SKIP === '1' && !['true', '1'].includes(process.env.CI ?? '')

/**
 * A service the test needs is missing: a failure saying what and how to provide it, or, with the
 * opt-out, a skip saying the same. Returns only when the test skipped (the caller then returns).
 */
export function missingService(t: { skip(message: string): void }, what: string, how: string): void {
  if (!ALLOW_SKIP)
    throw new Error(`${what}. ${how}; or set AUTORETRIEVE_TEST_ALLOW_SKIP=1 to skip the tests that need it`)
  t.skip(`${what} (AUTORETRIEVE_TEST_ALLOW_SKIP=1)`)
}

/**
 * A scratch PostgreSQL database for one test (dropped after it), on AUTORETRIEVE_TEST_POSTGRES_URL's
 * server. None answering fails the test (see missingService); undefined only when it skipped.
 */
export async function scratchDatabase(t: {
  after(fn: () => Promise<unknown>): void
  skip(message: string): void
}): Promise<string | undefined> {
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try {
    await admin`select 1`
  } catch (err) {
    await admin.end({ timeout: 1 })
    missingService(
      t,
      `PostgreSQL is not reachable at ${new URL(TEST_POSTGRES_URL).host} (${(err as Error).message})`,
      'Start one with trust auth for user postgres on 127.0.0.1:5432, or set AUTORETRIEVE_TEST_POSTGRES_URL to a database the tests may create databases from'
    )
    return undefined
  }
  const name = `autoretrieve_test_${randomBytes(5).toString('hex')}`
  await admin.unsafe(`create database ${name}`)
  t.after(async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {})
    await admin.end({ timeout: 1 })
  })
  const url = new URL(TEST_POSTGRES_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * Waits until `cond` holds, polling every `intervalMs` for at most `timeoutMs` (so at most
 * timeoutMs / intervalMs checks); throws naming `what` and the last value seen otherwise.
 */
export async function until<T>(
  what: string,
  check: () => Promise<T> | T,
  cond: (value: T) => boolean,
  { timeoutMs = 10_000, intervalMs = 50 } = {}
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (cond(value)) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${JSON.stringify(value)}`)
    await sleep(intervalMs)
  }
}

/** One admin API call with the node's token; the JSON answer and its status. */
export async function adminApi<T = Record<string, unknown>>(
  node: DaemonHandle,
  method: string,
  path: string,
  body?: unknown
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${node.adminUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, body: (await res.json()) as T }
}

export interface Explained {
  deniedNow: boolean
  cachedNow: boolean
  policyVersion: number
  refusals: Array<{ peer: string; reason: string; policyVersion: number }>
}

/** `GET /api/v1/cids/{cid}/explain`: what the node says now about a CID, and the refusals it recorded. */
export async function explain(node: DaemonHandle, cid: CID | string): Promise<Explained> {
  const { status, body } = await adminApi<Explained>(node, 'GET', `/api/v1/cids/${cid}/explain`)
  assert.equal(status, 200, JSON.stringify(body))
  return body
}

/**
 * Denies a CID through the admin API of `via` (default: the node itself) and waits until `node`
 * serves under that policy version; resolves with the version.
 */
export async function denyViaApi(node: DaemonHandle, cid: CID | string, via: DaemonHandle = node): Promise<number> {
  const denied = await adminApi(via, 'POST', '/api/v1/blacklist/cids', { cid: cid.toString(), reason: 'test' })
  assert.equal(denied.status, 201, JSON.stringify(denied.body))
  const version = denied.body.version as number
  await until(
    `policy version ${version} on the node`,
    async () => (await adminApi(node, 'GET', '/api/v1/policy')).body.version as number,
    (seen) => seen >= version
  )
  return version
}

/**
 * The reasons the node recorded for refusing wants for `cid` (from `peer` if given), once at least
 * one is recorded: refusals reach the database in batches, off the request path.
 */
export async function refusalReasons(node: DaemonHandle, cid: CID | string, peer?: string): Promise<string[]> {
  const mine = (e: Explained) => e.refusals.filter((r) => peer === undefined || r.peer === peer)
  const why = await until(
    `a refusal of ${cid} recorded`,
    () => explain(node, cid),
    (e) => mine(e).length > 0
  )
  return mine(why).map((r) => r.reason)
}

/** The whole UnixFS file under `root` as a Helia client reads it (bounded by timeoutMs). */
export async function catFile(helia: HeliaPeer, root: CID, timeoutMs = 30_000): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of unixfs(helia).cat(root, { signal: AbortSignal.timeout(timeoutMs) })) parts.push(chunk)
  return Buffer.concat(parts)
}

/** A Helia client (stopped after the test) connected to the node over TCP. */
export async function heliaClient(t: { after(fn: () => Promise<unknown>): void }, addrs: string[]) {
  const helia = await createHeliaPeer()
  t.after(() => helia.stop())
  await helia.libp2p.dial(multiaddr(addrs.find((a) => !a.includes('/ws'))!))
  return helia
}

/** Hands a CAR to a running node through its admin API (as `cache import` does); it must take it. */
export async function importCarViaNode(node: DaemonHandle, car: Uint8Array): Promise<void> {
  const res = await fetch(`${node.adminUrl}/api/v1/cache/import`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/vnd.ipld.car' },
    body: Buffer.from(car)
  })
  assert.equal(res.status, 200, await res.text())
}

/**
 * A bare libp2p peer on loopback speaking Bitswap 1.2.0 to a node: the test sends wants on streams
 * it opens; the node's answers (on streams the node opens) are read and dropped.
 */
export async function quietBitswapPeer(t: { after(fn: () => Promise<unknown>): void }): Promise<Libp2p> {
  const peer = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  await peer.handle(PROTOCOL_120, (stream) => {
    void (async () => {
      for await (const _ of stream) {
        // discard: DONT_HAVEs and blocks the test does not look at
      }
    })().catch(() => {})
  })
  t.after(async () => {
    await peer.stop()
  })
  return peer
}
