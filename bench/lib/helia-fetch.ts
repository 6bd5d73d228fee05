// A benchmark client process: a real Helia node dials one server and fetches one UnixFS file.
// argv: <server multiaddr> <root cid> [start-at epoch ms] [root-first]; prints {"bytes", "ms", "firstByteMs",
// "rootBlockMs", "startedAt", "endedAt", "cpuMs"} (cpuMs: this process's CPU time during the fetch).
// root-first: take the root block alone first (one want, one answer), timed as rootBlockMs, then the
// file; that one round trip shows what the server adds, apart from the client's own DAG walk.
// Clients of one round wait for the same start time, so process start-up is not measured.

import { createHeliaPeer } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since)
  return Math.round((d.user + d.system) / 1000)
}

const [addr, root, startAt, mode] = process.argv.slice(2)
const helia = await createHeliaPeer()
try {
  await helia.libp2p.dial(multiaddr(addr))
  const wait = Number(startAt ?? 0) - Date.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  const startedAt = Date.now()
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  let firstByteMs = -1
  let rootBlockMs: number | undefined
  let bytes = 0
  if (mode === 'root-first') {
    // get() streams the block's bytes: drained, the block has arrived.
    for await (const _ of helia.blockstore.get(CID.parse(root), { signal: AbortSignal.timeout(300_000) })) {
    }
    rootBlockMs = performance.now() - started
  }
  for await (const chunk of unixfs(helia).cat(CID.parse(root), { signal: AbortSignal.timeout(300_000) })) {
    if (firstByteMs < 0) firstByteMs = performance.now() - started
    bytes += chunk.byteLength
  }
  process.stdout.write(
    `${JSON.stringify({ bytes, ms: performance.now() - started, firstByteMs, rootBlockMs, startedAt, endedAt: Date.now(), cpuMs: cpuMs(cpu0) })}\n`
  )
} finally {
  await helia.stop()
}
process.exit(0)
