// Graphsync with Filecoin data-transfer as a retrieval client needs it: the Graphsync node (its
// handler receives the providers' responses) and the data-transfer handler for the messages
// providers send on streams of their own. Both start on the first request, so a node that never
// retrieves over Graphsync registers neither protocol.
import { createGraphsync, type Graphsync, type GraphsyncLibp2p } from '@autoretrieve/graphsync'
import type { Logger } from '@autoretrieve/interface'
import { createDataTransferReceiver } from './receiver.ts'

export interface FilecoinRetrievalTransportComponents {
  libp2p: GraphsyncLibp2p
  logger?: Logger
}

export interface FilecoinRetrievalTransport {
  /** Graphsync's `request`, after starting both handlers if this is the first one. */
  request: Graphsync['request']
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
    async stop() {
      if (started === undefined) return
      await started.catch(() => {})
      started = undefined
      await graphsync.stop()
      await receiver.stop()
    }
  }
}
