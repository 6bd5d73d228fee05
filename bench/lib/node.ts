import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, type Spawned, spawnNode } from './process.ts'

export const CLI = fileURLToPath(new URL('../../apps/autoretrieve/src/cli.ts', import.meta.url))

export interface BenchNode {
  proc: Spawned
  multiaddr: string
  adminUrl: string
  /** The trustless gateway's URL (on loopback). */
  gatewayUrl: string
  token: string
  pid: number
}

/** Environment for a benchmark node: loopback only, no DHT, quiet logs. */
export function nodeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: process.env.BENCH_NODE_LOG_LEVEL ?? 'warn',
    // e.g. BENCH_NODE_OPTIONS=--cpu-prof to profile the node under load
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    AUTORETRIEVE_ROUTING_TABLE_TYPE: 'disabled',
    ...extra
  }
}

/** Starts `autoretrieve run` on a data dir and waits until its runtime file says it is up. */
export async function startBenchNode(
  dataDir: string,
  args: string[] = [],
  env = nodeEnv(),
  cli = CLI
): Promise<BenchNode> {
  const port = await freePort()
  const proc = spawnNode(
    cli,
    [
      '--data-dir',
      dataDir,
      '--listen',
      `/ip4/127.0.0.1/tcp/${port}`,
      '--admin-listen',
      '127.0.0.1:0',
      // Loopback, any free port: never the public default 0.0.0.0:8081. Another checkout's CLI
      // (footprint's --before-cli) may predate the gateway and refuse the flag.
      ...(cli === CLI ? ['--gateway-listen', '127.0.0.1:0'] : []),
      ...args,
      'run'
    ],
    env
  )
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`node exited with ${proc.child.exitCode}`)
    try {
      const info = JSON.parse(await readFile(join(dataDir, 'node.json'), 'utf8'))
      if (info.pid === proc.child.pid) {
        const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()
        return {
          proc,
          multiaddr: `/ip4/127.0.0.1/tcp/${port}/p2p/${info.peerId}`,
          adminUrl: info.adminUrl,
          gatewayUrl: info.gatewayUrl,
          token,
          pid: info.pid
        }
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  await proc.stop()
  throw new Error('node did not start in 60 s')
}
