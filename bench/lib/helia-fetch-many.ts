// One Helia client fetching many roots from one server at once.
// argv: <server multiaddr> <root>... ; prints {"ok": n, "failed": n, "ms": t}

import { createHeliaPeer } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'

const [addr, ...roots] = process.argv.slice(2)
const helia = await createHeliaPeer()
await helia.libp2p.dial(multiaddr(addr))
const started = performance.now()
const results = await Promise.allSettled(
  roots.map(async (root) => {
    let n = 0
    for await (const c of unixfs(helia).cat(CID.parse(root), { signal: AbortSignal.timeout(120_000) }))
      n += c.byteLength
    return n
  })
)
const ok = results.filter((r) => r.status === 'fulfilled').length
process.stdout.write(
  `${JSON.stringify({ ok, failed: results.length - ok, ms: Math.round(performance.now() - started) })}\n`
)
await helia.stop()
process.exit(0)
