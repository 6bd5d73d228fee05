import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '@autoretrieve/config'
import { createHeliaPeer, createUnixfsFixture, startIndexer, startProvider } from '@autoretrieve/testkit'
import { unixfs } from '@helia/unixfs'
import { createLogger } from './src/logger.ts'
import { startNode } from './src/node.ts'

const size = Number(process.argv[2] ?? 64)
const fixture = await createUnixfsFixture({ size: size * 1024 * 1024, chunkSize: 256 * 1024, seed: 77 })
const provider = await startProvider({ cars: [fixture.car], protocols: ['http'], fault: 'delay:50' })
const indexer = await startIndexer({
  providers: [{ peerId: provider.peerId, addrs: [provider.httpMultiaddr!], protocols: ['http'] }]
})
const dir = await mkdtemp(join(tmpdir(), 'dbg-'))
const { config } = await loadConfig({
  flags: {
    dataDir: dir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    adminListen: '127.0.0.1:0',
    routingTableType: 'disabled',
    lookupEndpointUrl: indexer.url,
    databaseUrl: 'postgres://postgres@127.0.0.1:5432/ar_bench'
  },
  env: {}
})
const node = await startNode(config, { logger: createLogger({ level: 'warn', pretty: false }) })
for (let round = 0; round < 6; round++) {
  const helia = await createHeliaPeer()
  await helia.libp2p.dial(node.host.getMultiaddrs()[0])
  let n = 0
  try {
    for await (const c of unixfs(helia).cat(fixture.root, { signal: AbortSignal.timeout(15000) })) n += c.byteLength
    console.log('round', round, 'done', n)
  } catch (e) {
    console.log('round', round, 'ERR', (e as Error).message, n, JSON.stringify(node.bitswap.stats()), JSON.stringify(node.bitswap.peers()))
  }
  await helia.stop()
}
await node.stop(); await provider.close(); await indexer.close()
process.exit(0)
