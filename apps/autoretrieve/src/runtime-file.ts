import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * `<data-dir>/node.json` says a node is running on this data dir and where its admin API is, so
 * commands such as `cache import` can hand work to it instead of touching its files underneath it.
 */
export interface RuntimeInfo {
  pid: number
  adminUrl: string
  peerId: string
  /** The libp2p addresses actually bound (ports resolved). */
  multiaddrs: string[]
  startedAt: string
  /** The trustless gateway's URL (port resolved); absent when gateway-listen is empty. */
  gatewayUrl?: string
}

const FILE = 'node.json'

export async function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): Promise<void> {
  await writeFile(join(dataDir, FILE), `${JSON.stringify(info)}\n`, { mode: 0o600 })
}

export async function removeRuntimeInfo(dataDir: string): Promise<void> {
  await rm(join(dataDir, FILE), { force: true })
}

/** The running node on this data dir, or undefined when none (a stale file from a crash is ignored). */
export async function readRuntimeInfo(dataDir: string): Promise<RuntimeInfo | undefined> {
  let info: RuntimeInfo
  try {
    info = JSON.parse(await readFile(join(dataDir, FILE), 'utf8'))
  } catch {
    return undefined
  }
  try {
    process.kill(info.pid, 0)
  } catch (err) {
    // EPERM: it runs, as another user (a node in a container, say): still the data dir's node.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined
  }
  return info
}
