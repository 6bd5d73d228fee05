import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

/** Serves a Hono app on 127.0.0.1 (port 0 = any free one); resolves with its URL and a closer. */
export function serveLoopback(app: Hono, port = 0): Promise<{ url: string; port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            const s = server as unknown as { close(cb: () => void): void; closeAllConnections?: () => void }
            s.close(() => done())
            s.closeAllConnections?.()
          })
      })
    })
    server.once('error', reject)
  })
}
