// What a client needs to retrieve from Filecoin storage providers over Graphsync: the Graphsync
// node (its handler receives the providers' responses), the data-transfer handler for the messages
// providers send on streams of their own, routed to the transfer they name, and the sending of our
// own data-transfer messages (payment vouchers). Both handlers start on the first request, so a
// node that never retrieves over Graphsync registers neither protocol.
import { createGraphsync, type Graphsync, type GraphsyncLibp2p } from '@autoretrieve/graphsync'
import type { AbortOptions, Logger } from '@autoretrieve/interface'
import type { PeerId } from '@libp2p/interface'
import { DATA_TRANSFER_PROTOCOL } from './constants.ts'
import { encodeTransferMessage, type TransferMessage } from './message.ts'
import { createDataTransferReceiver, type DataTransferReceiver } from './receiver.ts'

/**
 * Longest a data-transfer message we send may take, from dial to close: go-data-transfer allows
 * 10 s to open the stream (and 10 s to write).
 */
export const SEND_TRANSFER_MESSAGE_TIMEOUT_MS = 10_000

export interface FilecoinRetrievalTransportComponents {
  libp2p: GraphsyncLibp2p
  logger?: Logger
}

export interface FilecoinRetrievalTransport {
  /** Graphsync's `request`, after starting both handlers if this is the first one. */
  request: Graphsync['request']
  /** The receiver's `route`: the messages a provider sends about one transfer on its own streams. */
  route: DataTransferReceiver['route']
  /**
   * Sends one data-transfer message to `peer` as go-data-transfer does: a new
   * `/fil/datatransfer/1.2.0` stream, the message's DAG-CBOR, close. Bounded by
   * SEND_TRANSFER_MESSAGE_TIMEOUT_MS; throws what the dial or the stream threw.
   */
  send(peer: PeerId, message: TransferMessage, options?: AbortOptions): Promise<void>
  /** Unregisters both handlers if they were started. */
  stop(): Promise<void>
}

export function createFilecoinRetrievalTransport(
  components: FilecoinRetrievalTransportComponents
): FilecoinRetrievalTransport {
  const graphsync = createGraphsync(components)
  const receiver = createDataTransferReceiver(components)
  let started: Promise<void> | undefined
  const start = () =>
    (started ??= (async () => {
      await receiver.start()
      await graphsync.start()
    })())
  return {
    async *request(...args) {
      await start()
      return yield* graphsync.request(...args)
    },
    route: (provider, transferId, listener) => receiver.route(provider, transferId, listener),
    async send(peer, message, options = {}) {
      const timeout = AbortSignal.timeout(SEND_TRANSFER_MESSAGE_TIMEOUT_MS)
      const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
      const stream = await components.libp2p.dialProtocol(peer, DATA_TRANSFER_PROTOCOL, { signal })
      try {
        if (!stream.send(encodeTransferMessage(message))) await stream.onDrain({ signal })
        await stream.close({ signal })
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    },
    async stop() {
      if (started === undefined) return
      await started.catch(() => {})
      started = undefined
      await graphsync.stop()
      await receiver.stop()
    }
  }
}
