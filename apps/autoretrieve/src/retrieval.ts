import type { BitswapServer } from '@autoretrieve/bitswap'
import { createBitswapClient } from '@autoretrieve/bitswap'
import type { BlockCache } from '@autoretrieve/blockcache'
import { type AutoretrieveConfig, ConfigError } from '@autoretrieve/config'
import { DATA_TRANSFER_PROTOCOL, interpretTransferMessage, readTransferMessages } from '@autoretrieve/filecoin'
import { createGraphsync } from '@autoretrieve/graphsync'
import {
  createBitswapAdapter,
  createGraphsyncAdapter,
  createHttpAdapter,
  createRetriever,
  type ProtocolAdapter,
  type RetrieverEvents
} from '@autoretrieve/retriever'
import {
  type CandidateSource,
  createEstuarySource,
  createIpniSource,
  createLotusMinerResolver
} from '@autoretrieve/routing'
import type { RecordWriter } from '@autoretrieve/store'
import type { Host } from './host.ts'
import type { Logger } from './logger.ts'
import type { PolicyService } from './policy-service.ts'

/** Where candidates come from: `lookup-endpoint-type` picks IPNI or Estuary (whose miners resolve through Lotus). */
export function candidateSource(config: AutoretrieveConfig, selfPeerId: string, logger: Logger): CandidateSource {
  if (config.lookupEndpointType === 'estuary') {
    let resolver: ReturnType<typeof createLotusMinerResolver>
    try {
      resolver = createLotusMinerResolver({ logger }, { apiInfo: config.fullnodeApiInfo })
    } catch (cause) {
      throw new ConfigError(`FULLNODE_API_INFO: ${(cause as Error).message}`, { key: 'FULLNODE_API_INFO' }, { cause })
    }
    return createEstuarySource({ logger, resolver }, { endpointUrl: config.lookupEndpointUrl })
  }
  return createIpniSource({ logger }, { endpointUrl: config.lookupEndpointUrl, selfPeerId })
}

/**
 * Graphsync for retrievals, started on first use: its handler for `/ipfs/graphsync/2.0.0` receives
 * the providers' responses, and the `/fil/datatransfer/1.2.0` handler takes the Complete (or
 * Cancel) messages Boost sends on a stream of its own; Boost counts a transfer failed when it
 * cannot deliver them. The Graphsync status already tells us the outcome, so they are logged.
 */
function graphsyncForRetrievals(host: Host, logger: Logger) {
  const graphsync = createGraphsync({ libp2p: host, logger: logger.child({ component: 'graphsync' }) })
  let started: Promise<void> | undefined
  const start = () =>
    (started ??= (async () => {
      await host.handle(
        DATA_TRANSFER_PROTOCOL,
        async (stream, connection) => {
          try {
            for await (const message of readTransferMessages(stream)) {
              const outcome = interpretTransferMessage(message)
              logger.debug(
                {
                  provider: connection.remotePeer.toString(),
                  transferId: String(outcome.transferId),
                  kind: outcome.kind
                },
                'data-transfer message from a provider'
              )
            }
          } catch (err) {
            logger.debug({ err: (err as Error).message }, 'bad data-transfer message; resetting the stream')
            stream.abort(err as Error)
          }
        },
        { maxInboundStreams: 32, runOnLimitedConnection: false }
      )
      await graphsync.start()
    })())
  return {
    async *request(...args: Parameters<typeof graphsync.request>) {
      await start()
      return yield* graphsync.request(...args)
    }
  }
}

/** The protocol adapters the node and `fetch` retrieve with: HTTP CAR, Bitswap and Graphsync. */
export function createRetrievalAdapters(parts: {
  host: Host
  bitswap: Pick<BitswapServer, 'onResponse'>
  logger: Logger
}): ProtocolAdapter[] {
  const client = createBitswapClient({ libp2p: parts.host, server: parts.bitswap })
  return [
    createHttpAdapter(),
    createBitswapAdapter({ client }),
    createGraphsyncAdapter({ libp2p: parts.host, graphsync: graphsyncForRetrievals(parts.host, parts.logger) })
  ]
}

/** The retrieval engine as the node runs it: cache, policy, routing, HTTP, Bitswap and Graphsync adapters, records. */
export function createNodeRetriever(parts: {
  config: AutoretrieveConfig
  peerId: string
  host: Host
  cache: BlockCache
  policy: PolicyService
  bitswap: () => BitswapServer
  records: RecordWriter
  events?: RetrieverEvents
  logger: Logger
}) {
  const { config, logger } = parts
  return createRetriever(
    {
      cache: parts.cache,
      policy: () => parts.policy.current(),
      candidates: candidateSource(config, parts.peerId, logger),
      adapters: createRetrievalAdapters({
        host: parts.host,
        // Late-bound: the server needs the retriever's miss handler, the client needs the server's answers.
        bitswap: { onResponse: (listener) => parts.bitswap().onResponse(listener) },
        logger
      }),
      records: parts.records,
      events: parts.events,
      logger
    },
    { maxConcurrentRetrievals: config.maxConcurrentRetrievals }
  )
}
