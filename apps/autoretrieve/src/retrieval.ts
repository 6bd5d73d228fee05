import type { BitswapServer } from '@autoretrieve/bitswap'
import { createBitswapClient } from '@autoretrieve/bitswap'
import type { BlockCache } from '@autoretrieve/blockcache'
import type { AutoretrieveConfig } from '@autoretrieve/config'
import { createFilecoinRetrievalTransport } from '@autoretrieve/filecoin'
import {
  createBitswapAdapter,
  createGraphsyncAdapter,
  createHttpAdapter,
  createRetriever,
  type ProtocolAdapter,
  type RetrievalPayments,
  type RetrieverEvents
} from '@autoretrieve/retriever'
import {
  type CandidateSource,
  createEstuarySource,
  createIpniSource,
  createLookupGuard,
  createLotusMinerResolver
} from '@autoretrieve/routing'
import type { RecordWriter } from '@autoretrieve/store'
import type { Host } from './host.ts'
import type { Logger } from './logger.ts'
import { fromLotusApiInfo } from './lotus-api.ts'
import type { PolicyService } from './policy-service.ts'

/** Where candidates come from: `lookup-endpoint-type` picks IPNI or Estuary (whose miners resolve through Lotus). */
export function candidateSource(config: AutoretrieveConfig, selfPeerId: string, logger: Logger): CandidateSource {
  if (config.lookupEndpointType === 'estuary') {
    const resolver = fromLotusApiInfo(() => createLotusMinerResolver({ logger }, { apiInfo: config.fullnodeApiInfo }))
    return createEstuarySource({ logger, resolver }, { endpointUrl: config.lookupEndpointUrl })
  }
  return createIpniSource({ logger }, { endpointUrl: config.lookupEndpointUrl, selfPeerId })
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
    createGraphsyncAdapter({
      libp2p: parts.host,
      // Graphsync and the `/fil/datatransfer/1.2.0` handler, both registered on the first request.
      graphsync: createFilecoinRetrievalTransport({
        libp2p: parts.host,
        logger: parts.logger.child({ component: 'graphsync' })
      })
    })
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
  records: Pick<RecordWriter, 'record'>
  events?: RetrieverEvents
  /** Payment channels (paid-retrievals with a wallet); without them priced providers are passed over. */
  payments?: RetrievalPayments
  logger: Logger
}) {
  const { config, logger } = parts
  return createRetriever(
    {
      cache: parts.cache,
      policy: () => parts.policy.current(),
      // Wants for missing content cost the indexer little: unknown CIDs remembered a while,
      // concurrent lookups of one CID shared, lookups bounded in number.
      candidates: createLookupGuard(candidateSource(config, parts.peerId, logger)),
      adapters: createRetrievalAdapters({
        host: parts.host,
        // Late-bound: the server needs the retriever's miss handler, the client needs the server's answers.
        bitswap: { onResponse: (listener) => parts.bitswap().onResponse(listener) },
        logger
      }),
      records: parts.records,
      events: parts.events,
      payments: parts.payments,
      logger
    },
    {
      maxConcurrentRetrievals: config.maxConcurrentRetrievals,
      maxQueuedRetrievals: config.retrievalQueueSize,
      requesterRatePerSecond: config.peerRetrievalRate,
      requesterBurst: config.peerRetrievalBurst,
      // paid-retrievals off, or on without a wallet to pay from: the query phase passes over a
      // priced Graphsync ask (paid_not_allowed).
      paidRetrievals: config.paidRetrievals && parts.payments !== undefined
    }
  )
}
