import { constants } from 'node:fs'
import { access, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type AdminServer, createAdminApp, listenAdmin } from '@autoretrieve/admin'
import { type BitswapServer, createBitswapServer } from '@autoretrieve/bitswap'
import { type BlockCache, createBlockCache } from '@autoretrieve/blockcache'
import { type AutoretrieveConfig, ensureAdminToken } from '@autoretrieve/config'
import { createHeartbeat, type Heartbeat, type HeartbeatInit } from '@autoretrieve/estuary'
import { createEventRecorder, readEventRecorderAuth } from '@autoretrieve/event-recorder'
import { createGateway, type Gateway, type GatewayServer, listenGateway } from '@autoretrieve/gateway'
import type { RetrievalRecord } from '@autoretrieve/interface'
import { createMetrics } from '@autoretrieve/metrics'
import type { PaychManager } from '@autoretrieve/paych'
import { cidDenial, isCidDenied, unresolvedDenials } from '@autoretrieve/policy'
import { createRecordWriter, createStore, type RecordWriter, type Store } from '@autoretrieve/store'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { importCar } from './car-import.ts'
import { StartupError } from './errors.ts'
import { createHost, type Host } from './host.ts'
import { loadOrCreatePeerKey } from './identity.ts'
import type { Logger } from './logger.ts'
import { createMinerAddresses } from './miner-addresses.ts'
import { retrievalStatsLogger, startResourceLog } from './ops-logs.ts'
import { createNodePayments } from './payments.ts'
import { createPolicyService, type PolicyService } from './policy-service.ts'
import { createNodeRetriever } from './retrieval.ts'
import { createRetrievalTally } from './retrieval-tally.ts'
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-file.ts'
import { logStart, startFacts } from './start-lines.ts'
import { statsReader } from './stats.ts'

/**
 * Verified blocks kept in memory by the cache. Peers fetching the same DAG at once ask for the
 * same blocks within moments of each other: each is then read and hashed once, not once per peer.
 */
const HOT_SET_BYTES = 16 * 1024 * 1024

export interface RunningNode {
  readonly peerId: string
  readonly adminUrl: string
  readonly adminToken: string
  /** The trustless gateway's URL; undefined when gateway-listen is empty. */
  readonly gatewayUrl?: string
  readonly multiaddrs: string[]
  readonly store: Store
  readonly cache: BlockCache
  readonly policy: PolicyService
  readonly host: Host
  readonly bitswap: BitswapServer
  readonly records: RecordWriter
  readonly retriever?: ReturnType<typeof createNodeRetriever>
  /** Payment channels, when paid retrievals are on and the wallet has a default key. */
  readonly payments?: PaychManager
  readonly heartbeat: Heartbeat
  stop(): Promise<void>
}

/**
 * Blocks just written by a retrieval that the cache keeps in memory: a client that asks for them
 * a moment later (a Helia client requests a file's leaves after its root, while the CAR streams
 * on) is answered without a disk read. The provider outruns the client (bench/miss: the CAR lands
 * in ~0.3 s, the client takes ~1 s), so by the time the leaves are wanted the first of them were
 * written tens of MiB ago: at 8 MiB they were read back from disk behind the retrieval's own
 * writes, and the first leaf waited 29 ms for its read. 256 blocks of 256 KiB; the blocks a
 * waiting peer holds (bitswap's held bytes) are the same buffers, not a second copy.
 */
const RECENT_BLOCK_BYTES = 64 * 1024 * 1024

/**
 * The block log's segment size: 64 MiB, or a sixteenth of a small prune-threshold (at least
 * 1 MiB). Space is freed a segment at a time, so with one 64 MiB segment an 8 MiB threshold
 * would let the log reach several times the threshold before anything could be reclaimed.
 */
function segmentBytesFor(pruneThresholdBytes: number): number {
  const max = 64 * 1024 * 1024
  if (pruneThresholdBytes <= 0) return max
  return Math.min(max, Math.max(1024 * 1024, Math.floor(pruneThresholdBytes / 16)))
}

/**
 * The composition root: opens the store, the policy, the block cache, the libp2p host with the
 * Bitswap server and the admin API, in dependency order; `stop()` closes them in reverse. A part
 * that fails to start stops the ones already started and the error says which part.
 */
export async function startNode(
  config: AutoretrieveConfig,
  components: { logger: Logger; reloadConfig?: () => Promise<AutoretrieveConfig> }
): Promise<RunningNode> {
  const { logger } = components
  const stack: Array<{ name: string; stop: () => Promise<void> }> = []
  const stopAll = async () => {
    for (const part of stack.reverse()) {
      try {
        await part.stop()
      } catch (err) {
        logger.warn({ err, part: part.name }, 'error while stopping')
      }
    }
    stack.length = 0
  }

  try {
    await ensureWritableDir(config.dataDir)
    const adminToken = await ensureAdminToken(config)

    const store = await createStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'store' })
    })
    stack.push({ name: 'store', stop: () => store.close() })
    await store.changes.start()
    stack.push({ name: 'change feed', stop: () => store.changes.stop() })

    // Miner addresses (f0…) in the lists and miner configs, resolved to peer IDs through Lotus.
    const minerAddresses = createMinerAddresses(config, logger.child({ component: 'lotus' }))
    const policy = await createPolicyService(
      { store, logger: logger.child({ component: 'policy' }), minerAddresses },
      config
    )
    await policy.start()
    stack.push({ name: 'policy', stop: () => policy.stop() })

    const cache = createBlockCache(
      { logger: logger.child({ component: 'blockcache' }) },
      {
        path: join(config.dataDir, 'blockstore'),
        pruneThresholdBytes: config.pruneThresholdBytes,
        pinDurationMs: config.pinDurationMs,
        segmentBytes: segmentBytesFor(config.pruneThresholdBytes),
        recentBytes: RECENT_BLOCK_BYTES,
        hotSetBytes: HOT_SET_BYTES
      }
    )
    await cache.start()
    stack.push({ name: 'block cache', stop: () => cache.stop() })

    // Denying a CID also removes its cached copy (peers already waiting are refused by the Bitswap
    // server): those denied while the node was down (config.yaml, another node on the same
    // database) now, those denied later as they are.
    const removeDenied = (cid: string) =>
      cache.delete(CID.parse(cid)).catch((err) => logger.warn({ err, cid }, 'could not remove a denied block'))
    for (const entry of policy.holder.current().deniedCids.values()) await removeDenied(entry.cid)
    const unsubscribeDeny = policy.holder.subscribe((next, previous) => {
      for (const [key, entry] of next.deniedCids) if (!previous.deniedCids.has(key)) void removeDenied(entry.cid)
    })
    stack.push({ name: 'deny watcher', stop: async () => unsubscribeDeny() })

    const privateKey = await loadOrCreatePeerKey(config.dataDir)
    const peerId = peerIdFromPrivateKey(privateKey).toString()
    const host = await createHost({
      privateKey,
      listenAddrs: config.listenAddrs,
      routingTableType: config.routingTableType,
      logger: logger.child({ component: 'libp2p' })
    })
    stack.push({ name: 'libp2p', stop: async () => host.stop() })
    if (config.logResourceManager) {
      const stopResourceLog = startResourceLog(host, logger.child({ component: 'resources' }))
      stack.push({ name: 'resource log', stop: async () => stopResourceLog() })
    }

    const records = createRecordWriter(
      { store, logger: logger.child({ component: 'records' }) },
      { instance: config.instanceName }
    )
    const metrics = createMetrics({
      cache: () => cache.stats(),
      pruneThresholdBytes: config.pruneThresholdBytes,
      peers: () => host.getPeers().length,
      records: () => records.stats(),
      // Read at scrape time: /metrics is served only once the heartbeat below exists.
      heartbeat: () => heartbeat.status(),
      eventRecorder: () => eventRecorder?.stats(),
      minerAddresses: () => minerAddresses.stats()
    })
    records.start()
    stack.push({ name: 'records', stop: () => records.stop() })
    // The console's outcome and time-to-first-byte counters, beside the metrics.
    const tally = createRetrievalTally()

    // The Go node's event recorder (lassie's POSTs) and per-retrieval Go metrics read the
    // retriever's records too (issue 14).
    const eventRecorder = config.eventRecorderEndpointUrl
      ? createEventRecorder(
          { logger: logger.child({ component: 'event-recorder' }) },
          {
            url: config.eventRecorderEndpointUrl,
            instanceName: config.instanceName,
            authorization: await readEventRecorderAuth(config.dataDir)
          }
        )
      : undefined
    if (eventRecorder !== undefined) stack.push({ name: 'event recorder', stop: () => eventRecorder.stop() })
    const retrieverRecords = {
      record(record: RetrievalRecord) {
        records.record(record)
        metrics.retrievals.onRecord(record)
        eventRecorder?.record(record)
      }
    }

    const payments = config.disableRetrieval
      ? undefined
      : await createNodePayments(config, store, logger.child({ component: 'payments' }))

    let bitswapRef: BitswapServer | undefined
    const retriever = config.disableRetrieval
      ? undefined
      : createNodeRetriever({
          config,
          peerId,
          host,
          cache,
          policy,
          bitswap: () => bitswapRef!,
          records: retrieverRecords,
          payments,
          // The console's tally, and with log-retrieval-stats a line per finished retrieval, beside the metrics.
          events: tally.events(
            config.logRetrievalStats
              ? {
                  ...metrics.retriever,
                  onRetrievalFinished: retrievalStatsLogger(logger.child({ component: 'retrieval-stats' }))
                }
              : metrics.retriever
          ),
          logger: logger.child({ component: 'retriever' })
        })
    const bitswap = createBitswapServer(
      {
        libp2p: host,
        blocks: cache,
        policy: {
          current: () => policy.current(),
          subscribe: (listener) => policy.holder.subscribe(listener),
          isDenied: (cid) => isCidDenied(policy.current(), cid)
        },
        events: {
          ...metrics.bitswap,
          onRefusal: (cid, peer, reason, policyVersion) =>
            records.record({ type: 'refusal', cid: cid.toString(), peer, reason, policyVersion, at: new Date() })
        },
        logger: logger.child({ component: 'bitswap' })
      },
      { maxWorkers: config.maxBitswapWorkers, missHandler: retriever?.missHandler, hotBytes: HOT_SET_BYTES }
    )
    bitswapRef = bitswap
    await bitswap.start()
    stack.push({ name: 'bitswap', stop: () => bitswap.stop() })

    // Estuary advertises this node once it beats, so it beats only once it can serve.
    const heartbeat = createHeartbeat(
      { logger: logger.child({ component: 'heartbeat' }), events: metrics.heartbeat },
      heartbeatSettings(config)
    )
    heartbeat.start()
    stack.push({ name: 'heartbeat', stop: () => heartbeat.stop() })

    // The trustless gateway: built before the admin app so /stats can show its counters, bound
    // after it. It reads the same cache, starts or joins the same retrievals as Bitswap's misses,
    // and follows the same policy (a denied CID is 410, a deny mid-stream cuts the stream).
    // Miss admission per client IP is the retriever's (requestedBy = http-gateway:<IP>).
    const gateway: Gateway | undefined =
      config.gatewayListen === null
        ? undefined
        : createGateway({
            cache,
            retriever,
            policy: { current: () => policy.current(), subscribe: (listener) => policy.holder.subscribe(listener) },
            records,
            events: metrics.gateway,
            logger: logger.child({ component: 'gateway' })
          })

    const app = createAdminApp(
      {
        logger: logger.child({ component: 'admin' }),
        metrics,
        readiness: {
          database: () => store.ping(),
          libp2p: async () => {
            if (host.status !== 'started') throw new Error(`libp2p is ${host.status}`)
          },
          cache: async () => {
            cache.stats()
          }
        },
        stats: statsReader({
          bitswap,
          retriever,
          cache,
          pruneThresholdBytes: config.pruneThresholdBytes,
          records,
          policy,
          heartbeat,
          tally,
          peers: () => host.getPeers().length,
          gateway
        }),
        // The stats' `payments` block: spend today and the channels (absent when the node does not pay).
        payments,
        peers: () => bitswap.peers(),
        cache: {
          importCar: (body, options) =>
            importCar(cache, body, { ...options, isDenied: (cid) => isCidDenied(policy.current(), cid) })
        },
        heartbeat,
        policy: {
          current: () => policy.current(),
          apply: (change, meta) => policy.apply(change, meta),
          reload: async () => {
            if (components.reloadConfig === undefined) return policy.current()
            const next = await components.reloadConfig()
            await heartbeat.configure(heartbeatSettings(next))
            return policy.reload(next)
          },
          instance: config.instanceName,
          drift: () => policy.drift(),
          subscribe: (listener) => policy.holder.subscribe(() => listener())
        },
        retrievals: {
          history: store.retrievals,
          now: {
            isDenied: (cid) => isCidDenied(policy.current(), CID.parse(cid)),
            isCached: (cid) => cache.has(CID.parse(cid)),
            policyVersion: () => policy.current().version,
            unresolvedDenials: () => unresolvedDenials(policy.current()),
            denial: (cid) => {
              const entry = cidDenial(policy.current(), CID.parse(cid))
              if (entry === undefined) return null
              const { cid: value, origin, reason, added } = entry
              return { list: 'cid-deny', value, origin, reason, added }
            },
            instance: config.instanceName
          }
        }
      },
      { token: () => adminToken }
    )
    const admin: AdminServer = await listenAdmin(app, config.adminListen)
    stack.push({ name: 'admin', stop: () => admin.close() })
    let gatewayServer: GatewayServer | undefined
    if (gateway !== undefined && config.gatewayListen !== null) {
      gatewayServer = await listenGateway(gateway, config.gatewayListen)
      stack.push({ name: 'gateway', stop: () => gatewayServer!.close() })
    }
    if (retriever !== undefined) {
      // The first fetch() of a process loads and compiles undici (~25 ms on the bench machine):
      // pay that now, on our own admin server, not in the first retrieval's time to first byte.
      await fetch(`${admin.url}/healthz`, { signal: AbortSignal.timeout(2_000) })
        .then((res) => res.body?.cancel())
        .catch(() => {})
    }

    const multiaddrs = host.getMultiaddrs().map((m) => m.toString())
    await writeRuntimeInfo(config.dataDir, {
      pid: process.pid,
      adminUrl: admin.url,
      peerId,
      multiaddrs,
      startedAt: new Date().toISOString(),
      ...(gatewayServer !== undefined && { gatewayUrl: gatewayServer.url })
    })
    stack.push({ name: 'runtime file', stop: () => removeRuntimeInfo(config.dataDir) })
    logStart(
      logger,
      startFacts(config, {
        peerId,
        multiaddrs,
        adminUrl: admin.url,
        gatewayUrl: gatewayServer?.url,
        storeKind: store.kind,
        policy: policy.current()
      }),
      policy.current()
    )

    return {
      peerId,
      adminUrl: admin.url,
      adminToken,
      gatewayUrl: gatewayServer?.url,
      multiaddrs,
      store,
      cache,
      policy,
      host,
      bitswap,
      records,
      retriever,
      payments,
      heartbeat,
      stop: stopAll
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

function heartbeatSettings(config: AutoretrieveConfig): HeartbeatInit {
  return {
    endpoint: config.advertiseEndpointUrl,
    token: config.advertiseEndpointToken,
    retryIntervalMs: config.heartbeatIntervalMs
  }
}

async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await access(dir, constants.W_OK)
  } catch (err) {
    throw new StartupError(
      `data dir ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err }
    )
  }
}
