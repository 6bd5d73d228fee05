import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createGraphsync,
  EXPLORE_ALL_RECURSIVELY,
  PROTOCOL_GRAPHSYNC,
  RequestFailedError
} from '@autoretrieve/graphsync'
import { type Logger, silentLogger } from '@autoretrieve/interface'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import {
  createDataTransferReceiver,
  createFilecoinRetrievalTransport,
  DATA_TRANSFER_PROTOCOL,
  DealStatus,
  dealResponseToNode,
  encodeTransferMessage,
  interpretTransferMessage,
  MessageType,
  VoucherType
} from '../src/index.ts'
import { loopbackNode } from './helpers.ts'

const root = CID.parse('bafkreidommkdieserxbbcbz24z6nblwdvxlrxnn33pzi6ypi35ckvlr7gm')

type After = { after(fn: () => Promise<unknown>): void }

async function pair(t: After): Promise<{ client: Libp2p; provider: Libp2p }> {
  const client = await loopbackNode()
  const provider = await loopbackNode()
  t.after(() => Promise.all([client.stop(), provider.stop()]))
  return { client, provider }
}

/** A logger that keeps its debug lines. */
function recordingLogger(): Logger & { lines: Array<{ obj: unknown; msg?: string }> } {
  const lines: Array<{ obj: unknown; msg?: string }> = []
  return { ...silentLogger, lines, debug: (obj, msg) => lines.push({ obj, msg }) }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(10)
  assert.ok(condition(), what)
}

/** Streams of `protocol` still open on the client's side of its connection to `peer`. */
const openStreams = (client: Libp2p, provider: Libp2p, protocol: string) =>
  client.getConnections(provider.peerId).flatMap((c) => c.streams.filter((s) => s.protocol === protocol)).length

test('the data-transfer handler reads the Complete a provider sends, then closes its side', async (t) => {
  const { client, provider } = await pair(t)
  const logger = recordingLogger()
  const receiver = createDataTransferReceiver({ libp2p: client, logger })
  await receiver.start()
  t.after(() => receiver.stop())

  // What Boost sends once a Graphsync response ended 20 (data-transfer.md §4 step 8).
  const complete = encodeTransferMessage({
    isRequest: false,
    response: {
      type: MessageType.Complete,
      accepted: true,
      paused: false,
      transferId: 5678n,
      voucherType: VoucherType.DealResponse,
      voucherResult: dealResponseToNode({ status: DealStatus.Completed, id: 1234n, paymentOwed: 0n, message: '' })
    }
  })
  const stream = await provider.dialProtocol(client.getMultiaddrs(), DATA_TRANSFER_PROTOCOL)
  stream.send(complete)
  await stream.close()

  await until(() => logger.lines.length > 0, 'the handler read the message')
  assert.deepEqual(logger.lines[0].obj, {
    provider: provider.peerId.toString(),
    transferId: '5678',
    kind: 'completed',
    routed: false
  })
  // The stream does not linger half-open against the handler's inbound stream limit.
  await until(() => openStreams(client, provider, DATA_TRANSFER_PROTOCOL) === 0, 'the stream was closed on both sides')
})

/** A provider's voucher result on a stream of its own: FundsNeeded for `owed` attoFIL. */
const fundsNeeded = (transferId: bigint, owed: bigint) =>
  encodeTransferMessage({
    isRequest: false,
    response: {
      type: MessageType.VoucherResult,
      accepted: true,
      paused: true,
      transferId,
      voucherType: VoucherType.DealResponse,
      voucherResult: dealResponseToNode({ status: DealStatus.FundsNeeded, id: 1n, paymentOwed: owed, message: '' })
    }
  })

test('a voucher result on its own stream reaches the transfer it names, from that provider only', async (t) => {
  const { client, provider } = await pair(t)
  const other = await loopbackNode()
  t.after(() => other.stop())
  const logger = recordingLogger()
  const receiver = createDataTransferReceiver({ libp2p: client, logger })
  await receiver.start()
  t.after(() => receiver.stop())
  const got: bigint[] = []
  const unroute = receiver.route(provider.peerId.toString(), 77n, (message) => {
    const outcome = interpretTransferMessage(message)
    got.push(outcome.paymentOwed ?? -1n)
  })
  const send = async (from: Libp2p, bytes: Uint8Array) => {
    const stream = await from.dialProtocol(client.getMultiaddrs(), DATA_TRANSFER_PROTOCOL)
    stream.send(bytes)
    await stream.close()
  }
  await send(other, fundsNeeded(77n, 500n)) // another peer naming the same transfer ID
  await send(provider, fundsNeeded(78n, 600n)) // the provider, another transfer
  await send(provider, fundsNeeded(77n, 700n))
  await until(() => got.length > 0, 'the routed message arrived')
  assert.deepEqual(got, [700n])
  assert.throws(() => receiver.route(provider.peerId.toString(), 77n, () => {}), /already routed/)
  unroute()
  await send(provider, fundsNeeded(77n, 800n))
  await until(() => logger.lines.length === 4, 'every message was read')
  assert.deepEqual(got, [700n], 'nothing reaches a transfer after it is unrouted')
  assert.equal(logger.lines.filter((l) => (l.obj as { routed: boolean }).routed).length, 1, 'one of four was routed')
})

test('the routes are bounded', async (t) => {
  const { client } = await pair(t)
  const receiver = createDataTransferReceiver({ libp2p: client }, { maxRoutedTransfers: 2 })
  const first = receiver.route('peer-a', 1n, () => {})
  receiver.route('peer-a', 2n, () => {})
  assert.throws(() => receiver.route('peer-b', 1n, () => {}), /2 data-transfer transfers are routed already/)
  first()
  receiver.route('peer-b', 1n, () => {})
})

test('the data-transfer handler resets a stream that carries no TransferMessage', async (t) => {
  const { client, provider } = await pair(t)
  const logger = recordingLogger()
  const receiver = createDataTransferReceiver({ libp2p: client, logger })
  await receiver.start()
  t.after(() => receiver.stop())

  const stream = await provider.dialProtocol(client.getMultiaddrs(), DATA_TRANSFER_PROTOCOL)
  stream.send(Uint8Array.of(0xa1, 0x61, 0x78, 0x01)) // {"x": 1}: DAG-CBOR, but not a TransferMessage
  await stream.close().catch(() => {})

  await until(() => logger.lines.length > 0, 'the handler gave up on the stream')
  assert.equal(logger.lines[0].msg, 'bad data-transfer message; resetting the stream')
  await until(() => openStreams(client, provider, DATA_TRANSFER_PROTOCOL) === 0, 'the stream was reset')
})

test('the retrieval transport registers Graphsync and data-transfer on its first request only', async (t) => {
  const { client, provider } = await pair(t)
  // A Graphsync node with no blockstore answers every request RequestRejected (30).
  const graphsync = createGraphsync({ libp2p: provider })
  await graphsync.start()
  const transport = createFilecoinRetrievalTransport({ libp2p: client })
  t.after(() => Promise.all([transport.stop(), graphsync.stop()]))
  const registered = () =>
    [DATA_TRANSFER_PROTOCOL, PROTOCOL_GRAPHSYNC].filter((protocol) => client.getProtocols().includes(protocol))

  assert.deepEqual(registered(), [], 'nothing is registered before a request')
  await client.dial(provider.getMultiaddrs())
  await assert.rejects(
    consume(transport.request(provider.peerId, root, EXPLORE_ALL_RECURSIVELY)),
    (err: Error) => err instanceof RequestFailedError && err.status === 30
  )
  assert.deepEqual(registered(), [DATA_TRANSFER_PROTOCOL, PROTOCOL_GRAPHSYNC])
  await transport.stop()
  assert.deepEqual(registered(), [], 'stop unregisters both')
})

async function consume(blocks: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of blocks) void _
}
