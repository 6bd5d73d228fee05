// The `/fil/datatransfer/1.2.0` handler a retrieval client must register (data-transfer.md §1, §4):
// Boost sends the Complete of a finished transfer (and Cancels) on a stream of its own, and counts
// the transfer failed on its side when it cannot deliver it; a paid deal's voucher results
// (FundsNeeded, payment accepted) may come this way too (§8.4). Each message goes to the transfer
// it names, by (provider peer, transfer ID), when one is routed; the rest are read, checked and logged.
import { type Logger, silentLogger } from '@autoretrieve/interface'
import type { Libp2p } from '@libp2p/interface'
import { DATA_TRANSFER_PROTOCOL } from './constants.ts'
import type { TransferMessage } from './message.ts'
import { interpretTransferMessage } from './outcome.ts'
import { readTransferMessages } from './stream.ts'

/**
 * Inbound data-transfer streams at once: a provider opens one a message and closes it at once,
 * so a few dozen cover many providers completing together.
 */
export const DEFAULT_MAX_INBOUND_TRANSFER_STREAMS = 32

/**
 * Transfers routed at once. Each is one running Graphsync attempt, and attempts are bounded by
 * the retriever's concurrency (16 retrievals by default, a few attempts each): this bound only
 * stops a leak from growing the map without end.
 */
export const DEFAULT_MAX_ROUTED_TRANSFERS = 4096

/** Called synchronously with each message a provider sends about one transfer; must not throw. */
export type TransferMessageListener = (message: TransferMessage) => void

export interface DataTransferReceiverComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle'>
  logger?: Logger
}

export interface DataTransferReceiverInit {
  /** @default DEFAULT_MAX_ROUTED_TRANSFERS */
  maxRoutedTransfers?: number
}

export interface DataTransferReceiver {
  start(): Promise<void>
  stop(): Promise<void>
  /**
   * Hands `listener` every message `provider` (a peer ID string) sends about `transferId` on its
   * own streams, until the returned function is called. Throws RangeError when the transfer is
   * already routed or DEFAULT_MAX_ROUTED_TRANSFERS are.
   */
  route(provider: string, transferId: bigint, listener: TransferMessageListener): () => void
}

const routeKey = (provider: string, transferId: bigint) => `${provider}/${transferId}`

export function createDataTransferReceiver(
  components: DataTransferReceiverComponents,
  init: DataTransferReceiverInit = {}
): DataTransferReceiver {
  const { libp2p } = components
  const logger = components.logger ?? silentLogger
  const maxRoutes = init.maxRoutedTransfers ?? DEFAULT_MAX_ROUTED_TRANSFERS
  const routes = new Map<string, TransferMessageListener>()
  return {
    async start() {
      await libp2p.handle(
        DATA_TRANSFER_PROTOCOL,
        async (stream, connection) => {
          const provider = connection.remotePeer.toString()
          try {
            // Each message is bounded in size and time by the reader, and handed on at once.
            for await (const message of readTransferMessages(stream)) {
              const outcome = interpretTransferMessage(message)
              const listener = routes.get(routeKey(provider, outcome.transferId))
              logger.debug(
                {
                  provider,
                  transferId: String(outcome.transferId),
                  kind: outcome.kind,
                  routed: listener !== undefined
                },
                'data-transfer message from a provider'
              )
              listener?.(message)
            }
            // The provider closed its side after its message: close ours so the stream is freed.
            await stream.close()
          } catch (err) {
            logger.debug({ provider, err: (err as Error).message }, 'bad data-transfer message; resetting the stream')
            stream.abort(err as Error)
          }
        },
        { maxInboundStreams: DEFAULT_MAX_INBOUND_TRANSFER_STREAMS, runOnLimitedConnection: false }
      )
    },
    async stop() {
      await libp2p.unhandle(DATA_TRANSFER_PROTOCOL)
    },
    route(provider, transferId, listener) {
      const key = routeKey(provider, transferId)
      if (routes.has(key)) throw new RangeError(`transfer ${transferId} with ${provider} is already routed`)
      if (routes.size >= maxRoutes)
        throw new RangeError(`${routes.size} data-transfer transfers are routed already (the bound is ${maxRoutes})`)
      routes.set(key, listener)
      return () => {
        if (routes.get(key) === listener) routes.delete(key)
      }
    }
  }
}
