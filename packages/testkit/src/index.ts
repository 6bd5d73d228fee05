/**
 * @autoretrieve/testkit: faithful local stand-ins for the outside world, on loopback only, for
 * tests, benchmarks and demos: a real Helia client, UnixFS fixtures, a storage provider (trustless
 * HTTP, Bitswap, Graphsync with data-transfer, each with injectable faults), an IPNI indexer, an
 * Estuary, an event recorder, a Lotus full node (balances, mpool, payment channels), the protocol test vectors, a strict reader of the Prometheus text
 * format, and the Go reference peers (kubo, a go-graphsync responder), built once from go/. The
 * `autoretrieve-testkit` bin runs the stand-ins as processes.
 */

export type { BoostAsk, QueryMode } from './boost-graphsync.ts'
export {
  type EstuaryAutoretrieve,
  type EstuaryDeal,
  type EstuaryFault,
  type EstuaryHeartbeatRequest,
  type EstuaryInit,
  type EstuaryRegistrationRequest,
  type EstuaryStandIn,
  startEstuary
} from './estuary.ts'
export {
  type EventRecorderFault,
  type EventRecorderInit,
  type EventRecorderStandIn,
  type RecordedEvent,
  startEventRecorder
} from './event-recorder.ts'
export { carOf, createUnixfsFixture, pseudoRandomBytes, type UnixfsFixture } from './fixtures.ts'
export { GO_METRICS, type GoMetric } from './go-metrics.ts'
export { GoMissingError, goPeerBinary, type IpfsResult, type KuboPeer, startKubo } from './go-peers.ts'
export { type GoResponder, type GoResponderInit, startGoResponder } from './go-responder.ts'
export { createHeliaPeer, type HeliaPeer } from './helia.ts'
export {
  encodeMetadata,
  type IndexerFault,
  type IndexerProtocol,
  type IndexerProviderRecord,
  type IndexerStandIn,
  startIndexer
} from './indexer.ts'
export {
  type LotusChannel,
  type LotusInit,
  type LotusMessageRecord,
  type LotusMiner,
  type LotusStandIn,
  startLotus
} from './lotus.ts'
export { type Exposition, parseExposition, type Sample, sampleValue } from './prometheus.ts'
export {
  type ProviderFault,
  type ProviderInit,
  type ProviderProtocol,
  type ProviderStandIn,
  startProvider
} from './provider.ts'
export { serveLoopback } from './serve-http.ts'
export { testVectorsDir } from './vectors.ts'
export { capturingLogger, waitUntil } from './wait.ts'
