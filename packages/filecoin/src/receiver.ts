// The `/fil/datatransfer/1.2.0` handler a retrieval client must register (data-transfer.md §4):
// Boost sends the Complete of a finished transfer (and Cancels) on a stream of its own, and counts
// the transfer failed on its side when it cannot deliver it. The Graphsync status already tells us
// the outcome of a free retrieval, so what arrives here is read, checked and logged.
import { type Logger, silentLogger } from '@autoretrieve/interface'
import type { Libp2p } from '@libp2p/interface'
import { DATA_TRANSFER_PROTOCOL } from './constants.ts'
import { interpretTransferMessage } from './outcome.ts'
import { readTransferMessages } from './stream.ts'

/**
 * Inbound data-transfer streams at once: a provider opens one a message and closes it at once,
 * so a few dozen cover many providers completing together.
 */
export const DEFAULT_MAX_INBOUND_TRANSFER_STREAMS = 32

export interface DataTransferReceiverComponents {
  libp2p: Pick<Libp2p, 'handle' | 'unhandle'>
  logger?: Logger
}

export interface DataTransferReceiver {
  start(): Promise<void>
  stop(): Promise<void>
}

export function createDataTransferReceiver(components: DataTransferReceiverComponents): DataTransferReceiver {
  const { libp2p } = components
  const logger = components.logger ?? silentLogger
  return {
    async start() {
      await libp2p.handle(
        DATA_TRANSFER_PROTOCOL,
        async (stream, connection) => {
          const provider = connection.remotePeer.toString()
          try {
            for await (const message of readTransferMessages(stream)) {
              const outcome = interpretTransferMessage(message)
              logger.debug(
                { provider, transferId: String(outcome.transferId), kind: outcome.kind },
                'data-transfer message from a provider'
              )
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
    }
  }
}
