import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBlockCache } from '@autoretrieve/blockcache'
import type { RetrievalRecord } from '@autoretrieve/interface'
import { createPolicyHolder, createSnapshot, type SnapshotInit } from '@autoretrieve/policy'
import { createHttpAdapter, createRetriever } from '@autoretrieve/retriever'
import { createIpniSource } from '@autoretrieve/routing'
import { type IndexerProviderRecord, type ProviderStandIn, startIndexer } from '@autoretrieve/testkit'
import { withHTTP } from '@helia/http'
import { createVerifiedFetchWithHelia } from '@helia/verified-fetch'
import { CarBlockIterator } from '@ipld/car'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { MemoryDatastore } from 'datastore-core/memory'
import { createHeliaLight } from 'helia'
import type { CID } from 'multiformats/cid'
import { createGateway, type GatewayInit, type GatewayRequestInfo, listenGateway } from '../src/index.ts'

type After = { after(fn: () => Promise<unknown>): void }

const MINER = { retrievalTimeoutMs: 5_000, maxConcurrentRetrievals: 0, maxBytesPerSecond: 0 }

/** How an indexer lists a provider stand-in's trustless HTTP endpoint. */
export function indexed(p: ProviderStandIn): IndexerProviderRecord[] {
  return [{ peerId: p.peerId, addrs: [p.httpMultiaddr!], protocols: ['http'] }]
}

/**
 * A gateway as the node wires it, on loopback: a real block cache, a policy holder, and (when
 * providers are given) the retrieval engine over an IPNI stand-in with the HTTP adapter.
 */
export async function startGateway(
  t: After,
  options: {
    providers?: IndexerProviderRecord[]
    init?: GatewayInit
    retrieval?: boolean
    /** The retriever's admission control (per requester: here the client IP). */
    admission?: { requesterRatePerSecond: number; requesterBurst: number }
  } = {}
) {
  const dir = await mkdtemp(join(tmpdir(), 'ar-gateway-'))
  const cache = createBlockCache({}, { path: dir })
  await cache.start()
  let version = 1
  const holder = createPolicyHolder(createSnapshot({ version, defaultMinerConfig: MINER }))
  const records: RetrievalRecord[] = []
  const requests: GatewayRequestInfo[] = []
  const indexer = options.retrieval === false ? undefined : await startIndexer({ providers: options.providers ?? [] })
  const retriever =
    indexer === undefined
      ? undefined
      : createRetriever(
          {
            cache,
            policy: () => holder.current(),
            candidates: createIpniSource({}, { endpointUrl: indexer.url, timeoutMs: 3_000 }),
            adapters: [createHttpAdapter()],
            records: { record: (e) => records.push(e) }
          },
          { staggerMs: 50, ...options.admission }
        )
  const gateway = createGateway(
    {
      cache,
      retriever,
      policy: { current: () => holder.current(), subscribe: (l) => holder.subscribe(l) },
      records: { record: (e) => records.push(e) },
      events: { onRequest: (info) => requests.push(info) }
    },
    options.init
  )
  const server = await listenGateway(gateway, { host: '127.0.0.1', port: 0 })
  t.after(async () => {
    await server.close()
    await indexer?.close()
    await cache.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return {
    url: server.url,
    gateway,
    cache,
    retriever,
    records,
    requests,
    deny(cid: CID, reason = 'test') {
      const s: Partial<SnapshotInit> = { deniedCids: [{ cid: cid.toString(), origin: 'api', reason }] }
      holder.swap(createSnapshot({ version: ++version, defaultMinerConfig: MINER, ...s }))
    },
    async put(blocks: Iterable<{ cid: CID; bytes: Uint8Array }>) {
      for (const b of blocks) await cache.put(b.cid, b.bytes)
    }
  }
}

/** The sections of a CAR body, in order, with its header roots (parsed by @ipld/car, the reference reader). */
export async function readCar(
  bytes: Uint8Array
): Promise<{ roots: CID[]; blocks: Array<{ cid: CID; bytes: Uint8Array }> }> {
  const iter = await CarBlockIterator.fromBytes(bytes)
  const blocks: Array<{ cid: CID; bytes: Uint8Array }> = []
  for await (const b of iter) blocks.push(b)
  return { roots: await iter.getRoots(), blocks }
}

/** verified-fetch over a Helia that reaches blocks only through this gateway (no libp2p, no public routers). */
export async function verifiedFetchVia(t: After, gatewayUrl: string) {
  const helia = createHeliaLight({ blockstore: new MemoryBlockstore(), datastore: new MemoryDatastore() })
  // Helia waits on its non-fallback routers before it asks the fallback (our gateway); with none
  // at all it waits for ever, so give it one that knows nothing.
  helia.addRouter({ name: 'none', async *findProviders() {} } as never)
  const node = await withHTTP(helia, {
    delegatedRouters: [],
    recursiveGateways: [gatewayUrl],
    allowLocal: true,
    allowInsecure: true
  }).start()
  const vf = await createVerifiedFetchWithHelia(node)
  t.after(async () => {
    await vf.stop()
    await node.stop()
  })
  return vf
}
