// The baseline for bench/gateway: a plain node:http server that streams one file from disk
// (fs.createReadStream piped to the response), in a process of its own as the node is. It prints
// {"url": …} once bound and serves GET /file until killed.
//   node bench/gateway/file-server.ts <path> <content-type>
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const [path, contentType] = process.argv.slice(2)
const size = (await stat(path)).size
const server = createServer({ keepAlive: true }, (req, res) => {
  if (req.url !== '/file') {
    res.writeHead(404).end()
    return
  }
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(size) })
  createReadStream(path).pipe(res)
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/file` })}\n`
  )
})
