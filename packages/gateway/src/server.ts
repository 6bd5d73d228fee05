import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Gateway } from './handler.ts'

export interface GatewayServer {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

export class GatewayListenError extends Error {
  static override name = 'GatewayListenError'
  override name = 'GatewayListenError'
  code = 'ERR_GATEWAY_LISTEN'
}

/**
 * Binds the gateway on host:port (port 0 picks a free one) with plain node:http: a CAR is
 * written to the socket block by block with its backpressure, without a web-stream layer between.
 */
export function listenGateway(gateway: Gateway, listen: { host: string; port: number }): Promise<GatewayServer> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer({ keepAlive: true }, gateway.handle)
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${listen.host}:${listen.port}`
      const why =
        err.code === 'EADDRINUSE'
          ? 'is already in use'
          : err.code === 'EACCES'
            ? 'needs more privileges'
            : `failed: ${err.message}`
      reject(
        new GatewayListenError(
          `gateway-listen ${where} ${why} (set gateway-listen or --gateway-listen; empty turns it off)`,
          {
            cause: err
          }
        )
      )
    }
    server.once('error', onError)
    server.listen(listen.port, listen.host, () => {
      server.off('error', onError)
      const info = server.address() as AddressInfo
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res())
            server.closeAllConnections()
          })
      })
    })
  })
}
