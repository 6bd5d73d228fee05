// Graphsync 2.0.0 as one node: a requester and a responder behind one protocol handler. The
// router splits each incoming message between them; a peer that breaks a stream or leaves fails
// our requests to it and stops our responses to it.
import { silentLogger } from '@autoretrieve/interface'
import { ReceiveError } from './errors.ts'
import { createRequester } from './requester.ts'
import { createResponder } from './responder.ts'
import { createProtocolRouter } from './router.ts'
import type { Graphsync, GraphsyncComponents, GraphsyncInit } from './types.ts'

export function createGraphsync(components: GraphsyncComponents, init: GraphsyncInit = {}): Graphsync {
  const { libp2p, blockstore } = components
  const logger = components.logger ?? silentLogger
  const requester = createRequester({ libp2p, logger })
  const responder = createResponder({ libp2p, blockstore, logger }, init)
  const router = createProtocolRouter(
    { libp2p, logger },
    {
      onRequest: (peer, request) => responder.receive(peer, request),
      onResponses: (peer, message) => requester.receive(peer, message),
      onReceiveError: (peer, error) => requester.failPeer(peer.toString(), error),
      onDisconnect: (peer) => {
        const key = peer.toString()
        requester.failPeer(key, new ReceiveError(`${key} disconnected`))
        responder.abortPeer(key)
      }
    }
  )
  let running = false

  return {
    async start() {
      if (running) return
      running = true
      await router.start()
    },
    async stop() {
      if (!running) return
      running = false
      await router.stop()
      responder.stop()
      requester.stop()
    },
    request: (peer, root, selector, options) => requester.request(peer, root, selector, options),
    stats: () => ({ inProgressRequests: requester.inProgress(), inProgressResponses: responder.inProgress() })
  }
}
