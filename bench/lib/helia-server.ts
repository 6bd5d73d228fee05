// The baseline server process: a plain Helia node (@helia/bitswap, memory blockstore) serving a CAR's blocks.
// argv: <car file> <port> ; prints {"multiaddr": "..."} when ready, serves until SIGTERM.
import { readFile } from 'node:fs/promises'
import { createHeliaPeer } from '@autoretrieve/testkit'
import { CarBlockIterator } from '@ipld/car/iterator'

const [carPath, port] = process.argv.slice(2)
const helia = await createHeliaPeer({ listen: true, port: Number(port) })
for await (const { cid, bytes } of await CarBlockIterator.fromBytes(await readFile(carPath)))
  await helia.blockstore.put(cid, bytes)
process.stdout.write(`${JSON.stringify({ multiaddr: helia.libp2p.getMultiaddrs()[0].toString() })}\n`)
process.on('SIGTERM', () => {
  helia.stop().finally(() => process.exit(0))
})
