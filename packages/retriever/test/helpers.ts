import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBitswapClient, createBitswapServer } from '@autoretrieve/bitswap'
import { createBlockCache } from '@autoretrieve/blockcache'
import { createSnapshot, type PolicySnapshot, type SnapshotInit } from '@autoretrieve/policy'
import { createIpniSource } from '@autoretrieve/routing'
import { type IndexerProviderRecord, type ProviderStandIn, startIndexer } from '@autoretrieve/testkit'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import {
  createBitswapAdapter,
  createHttpAdapter,
  createRetriever,
  type RetrievalRecord,
  type RetrieverInit
} from '../src/index.ts'

type After = { after(fn: () => Promise<unknown>): void }

export const DEFAULTS = { retrievalTimeoutMs: 5_000, maxConcurrentRetrievals: 0, maxBytesPerSecond: 0 }

/** How an indexer lists a provider stand-in: its libp2p peer, its HTTP endpoint, or both. */
export function indexed(p: ProviderStandIn, protocols: Array<'http' | 'bitswap'> = ['http']): IndexerProviderRecord[] {
  return protocols.map((protocol) => ({
    peerId: p.peerId,
    addrs: protocol === 'http' ? [p.httpMultiaddr!] : p.multiaddrs,
    protocols: [protocol]
  }))
}

/** A retriever as the node builds it: real cache, real libp2p with our Bitswap server for answers, IPNI stand-in. */
export async function setup(
  t: After,
  providers: IndexerProviderRecord[],
  policy: Partial<SnapshotInit> = {},
  init: RetrieverInit = {}
) {
  const dir = await mkdtemp(join(tmpdir(), 'ar-retriever-'))
  const cache = createBlockCache({}, { path: dir })
  await cache.start()
  const indexer = await startIndexer({ providers })
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const none = () => () => {}
  const server = createBitswapServer({
    libp2p: libp2p as never,
    blocks: cache,
    policy: { current: () => ({ version: 0 }), subscribe: none, isDenied: () => false }
  })
  await server.start()
  let snapshot: PolicySnapshot = createSnapshot({ version: 1, defaultMinerConfig: DEFAULTS, ...policy })
  const events: RetrievalRecord[] = []
  const retriever = createRetriever(
    {
      cache,
      policy: () => snapshot,
      candidates: createIpniSource({}, { endpointUrl: indexer.url, timeoutMs: 3_000 }),
      adapters: [
        createHttpAdapter(),
        createBitswapAdapter({ client: createBitswapClient({ libp2p: libp2p as never, server }) })
      ],
      records: { record: (e) => events.push(e) }
    },
    { staggerMs: 50, ...init }
  )
  t.after(async () => {
    await server.stop()
    await libp2p.stop()
    await indexer.close()
    await cache.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return {
    retriever,
    cache,
    indexer,
    events,
    setPolicy(next: Partial<SnapshotInit>) {
      snapshot = createSnapshot({ version: snapshot.version + 1, defaultMinerConfig: DEFAULTS, ...next })
    }
  }
}
