import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type ServerType, serve } from '@hono/node-server'
import type { Hono } from 'hono'
import type { AppEnv } from './env.ts'

export interface AdminServer {
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

export class AdminListenError extends Error {
  static override name = 'AdminListenError'
  override name = 'AdminListenError'
  code = 'ERR_ADMIN_LISTEN'
}

/** Listens on host:port (port 0 picks a free one) and resolves once bound, or rejects with a one-line reason. */
export function listenAdmin(app: Hono<AppEnv>, listen: { host: string; port: number }): Promise<AdminServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType | undefined
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${listen.host}:${listen.port}`
      const why =
        err.code === 'EADDRINUSE'
          ? 'is already in use'
          : err.code === 'EACCES'
            ? 'needs more privileges'
            : `failed: ${err.message}`
      reject(new AdminListenError(`admin-listen ${where} ${why} (set admin-listen or --admin-listen)`, { cause: err }))
    }
    server = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, (info: AddressInfo) => {
      server?.off('error', onError)
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((res) => {
            const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void }
            s.close(() => res())
            s.closeAllConnections?.()
          })
      })
    })
    server.once('error', onError)
    server.on('clientError', answerClientError)
  })
}

/**
 * A request Node's parser refuses before it reaches the app (headers over its 16 KiB limit, a
 * malformed request line) gets the API's error shape too, not Node's bare 431/400.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
  const [status, reason] = tooLarge ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request']
  const body = JSON.stringify({
    error: tooLarge
      ? { code: 'ERR_HEADERS_TOO_LARGE', message: 'the request headers are over the 16 KiB limit' }
      : { code: 'ERR_INVALID_INPUT', message: `malformed HTTP request (${err.code ?? err.message})` }
  })
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  )
}
