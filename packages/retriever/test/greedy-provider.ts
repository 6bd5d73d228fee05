// A provider that asks to be paid ahead of its data, for the payer's tests: a real libp2p node
// with the query protocol (a priced ask), Graphsync with data-transfer (the deal accepted), and a
// pause before its first block demanding a whole payment interval, FundsNeeded, for bytes it has
// not sent: in the paused message's extensions, or (`demandOn: 'stream'`) as a VoucherResult on a
// /fil/datatransfer/1.2.0 stream of its own. It counts the vouchers it receives there. Built from
// the same parts as the stand-ins; the honest paid provider is the testkit's.
import { addressOfKey, addressToBytes, formatAddress, generatePrivateKey } from '@autoretrieve/chain'
import {
  DATA_TRANSFER_PROTOCOL,
  DealStatus,
  dealResponseToNode,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_INCOMING_REQUEST,
  EXTENSION_OUTGOING_BLOCK,
  encodeQueryResponse,
  encodeTransferMessage,
  MessageType,
  QueryResponseStatus,
  RETRIEVAL_QUERY_PROTOCOL,
  readTransferMessages,
  type TransferMessage,
  transferMessageFromNode,
  transferMessageToNode,
  VoucherType
} from '@autoretrieve/filecoin'
import { createGraphsync } from '@autoretrieve/graphsync'
import { multihashKey } from '@autoretrieve/interface'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import type { CID } from 'multiformats/cid'

export interface GreedyProvider {
  peerId: string
  multiaddrs: string[]
  paymentAddress: string
  /** Vouchers received (a payer that never pays ahead sends none). */
  readonly vouchers: number
  close(): Promise<void>
}

export async function startGreedyProvider(init: {
  blocks: Array<{ cid: CID; bytes: Uint8Array }>
  root: CID
  pricePerByte: bigint
  paymentInterval: bigint
  /** Where the demand goes. @default 'extension' */
  demandOn?: 'extension' | 'stream'
}): Promise<GreedyProvider> {
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  const byKey = new Map(init.blocks.map((b) => [multihashKey(b.cid), b.bytes]))
  const size = init.blocks.reduce((n, b) => n + BigInt(b.bytes.byteLength), 0n)
  const wallet = addressOfKey(generatePrivateKey())
  let vouchers = 0
  const ids = new Map<string, { transferId: bigint; dealId: bigint }>()
  const response = (
    ids: { transferId: bigint; dealId: bigint },
    type: number,
    status: number,
    owed: bigint
  ): TransferMessage => ({
    isRequest: false,
    response: {
      type,
      accepted: true,
      paused: status !== DealStatus.Accepted,
      transferId: ids.transferId,
      voucherType: VoucherType.DealResponse,
      voucherResult: dealResponseToNode({ status, id: ids.dealId, paymentOwed: owed, message: '' })
    }
  })
  const graphsync = createGraphsync(
    {
      libp2p: libp2p as never,
      blockstore: {
        get: async (cid) => byKey.get(multihashKey(cid))
      }
    },
    {
      validateRequest: (req) => {
        const message = transferMessageFromNode(req.extensions?.[EXTENSION_DATA_TRANSFER])
        if (!message.isRequest) return { accept: false }
        const voucher = message.request.voucher as { ID: number | bigint }
        const deal = { transferId: message.request.transferId, dealId: BigInt(voucher.ID) }
        ids.set(Buffer.from(req.id).toString('hex'), deal)
        const node = transferMessageToNode(response(deal, MessageType.New, DealStatus.Accepted, 0n))
        return { accept: true, extensions: { [EXTENSION_INCOMING_REQUEST]: node, [EXTENSION_DATA_TRANSFER]: node } }
      },
      // Before the first block: pay me for the whole first interval now.
      beforeBlock: (req, peer, gate) => {
        const deal = ids.get(Buffer.from(req.id).toString('hex'))
        if (deal === undefined || gate.bytesSent > 0) return undefined
        const owed = init.pricePerByte * init.paymentInterval
        const demand = response(deal, MessageType.VoucherResult, DealStatus.FundsNeeded, owed)
        const node = transferMessageToNode(demand)
        if (init.demandOn === 'stream') {
          // go-data-transfer's SendMessage: one message on a new stream.
          libp2p
            .dialProtocol(peer, DATA_TRANSFER_PROTOCOL)
            .then(async (stream) => {
              stream.send(encodeTransferMessage(demand))
              await stream.close()
            })
            .catch(() => {})
        }
        return {
          extensions:
            init.demandOn === 'stream'
              ? undefined
              : { [EXTENSION_OUTGOING_BLOCK]: node, [EXTENSION_DATA_TRANSFER]: node },
          resume: (signal) =>
            new Promise((resolve) => signal.addEventListener('abort', () => resolve({}), { once: true }))
        }
      }
    }
  )
  await graphsync.start()
  await libp2p.handle(RETRIEVAL_QUERY_PROTOCOL, async (stream) => {
    for await (const _ of stream) break
    stream.send(
      encodeQueryResponse({
        status: QueryResponseStatus.Available,
        pieceCidFound: 0,
        size,
        paymentAddress: addressToBytes(wallet),
        minPricePerByte: init.pricePerByte,
        maxPaymentInterval: init.paymentInterval,
        maxPaymentIntervalIncrease: init.paymentInterval,
        message: '',
        unsealPrice: 0n
      })
    )
    await stream.close()
  })
  await libp2p.handle(DATA_TRANSFER_PROTOCOL, async (stream) => {
    try {
      for await (const message of readTransferMessages(stream))
        if (message.isRequest && message.request.type === MessageType.Voucher) vouchers++
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  })
  return {
    peerId: libp2p.peerId.toString(),
    multiaddrs: libp2p.getMultiaddrs().map((m) => m.toString()),
    paymentAddress: formatAddress(wallet),
    get vouchers() {
      return vouchers
    },
    async close() {
      await graphsync.stop()
      await libp2p.stop()
    }
  }
}
