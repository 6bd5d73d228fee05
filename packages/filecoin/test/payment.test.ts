import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  actorAddress,
  addressOfKey,
  formatAddress,
  generatePrivateKey,
  laneVoucher,
  parseAddress,
  type SignedVoucher,
  signVoucher,
  verifyVoucher
} from '@autoretrieve/chain'
import { decodeDagCbor } from '@autoretrieve/graphsync'
import { CID } from 'multiformats/cid'
import {
  createPaidRetrievalProposal,
  createVoucherRequest,
  DealStatus,
  dealPaymentFromNode,
  dealPaymentToNode,
  dealProposalFromNode,
  dealProposalToNode,
  decodeDealPayment,
  decodeTransferMessage,
  encodeDealPayment,
  encodeTransferMessage,
  interpretTransferMessage,
  MessageType,
  transferMessageToNode,
  VoucherType
} from '../src/index.ts'
import { exploreAll } from './helpers.ts'

const root = CID.parse('bafkreidommkdieserxbbcbz24z6nblwdvxlrxnn33pzi6ypi35ckvlr7gm')
// A payment channel's robust (f2) address, as the init actor makes one.
const channel = parseAddress(formatAddress(actorAddress(new TextEncoder().encode('a payment channel'))))

function voucher(amount: bigint, nonce: bigint): { sv: SignedVoucher; from: ReturnType<typeof addressOfKey> } {
  const key = generatePrivateKey()
  const sv = signVoucher(laneVoucher({ channel, lane: 3n, nonce, amount }), key)
  return { sv, from: addressOfKey(key) }
}

test('a paid proposal carries the ask: price per byte, unseal price and its payment intervals', () => {
  const proposal = createPaidRetrievalProposal({
    payloadCid: root,
    id: 9n,
    selector: exploreAll,
    ask: {
      minPricePerByte: 2n,
      unsealPrice: 1000n,
      maxPaymentInterval: 1n << 20n,
      maxPaymentIntervalIncrease: 1n << 19n
    }
  })
  assert.deepEqual(proposal.params, {
    selector: exploreAll,
    pieceCid: null,
    pricePerByte: 2n,
    paymentInterval: 1n << 20n,
    paymentIntervalIncrease: 1n << 19n,
    unsealPrice: 1000n
  })
})

test('a voucher request is a Type 4 request with the DealPayment, no root, no selector, every flag false', () => {
  const { sv, from } = voucher(12_345n, 1n)
  const message = createVoucherRequest({
    transferId: 1_700_000_000_000_000_001n,
    payment: { id: 1_700_000_000_000_000_000n, paymentChannel: channel, paymentVoucher: sv }
  })
  // On the wire and back, as the provider reads it from its /fil/datatransfer/1.2.0 stream.
  const read = decodeTransferMessage(encodeTransferMessage(message))
  assert.ok(read.isRequest)
  const { request } = read
  assert.equal(request.type, MessageType.Voucher)
  assert.equal(request.voucherType, VoucherType.DealPayment)
  assert.equal(request.voucherType, 'RetrievalDealPayment/1')
  assert.deepEqual([request.baseCid, request.selector], [null, null])
  assert.deepEqual([request.pull, request.paused, request.partial], [false, false, false])
  assert.equal(request.transferId, 1_700_000_000_000_000_001n)
  const node = transferMessageToNode(read) as { Request: { RestartChannel: unknown } }
  assert.deepEqual(node.Request.RestartChannel, ['', '', 0])
  const payment = dealPaymentFromNode(request.voucher)
  assert.equal(payment.id, 1_700_000_000_000_000_000n)
  assert.equal(formatAddress(payment.paymentChannel), formatAddress(channel))
  assert.ok(payment.paymentVoucher !== null)
  assert.equal(payment.paymentVoucher.amount, 12_345n)
  assert.ok(verifyVoucher(payment.paymentVoucher, from), 'the signature still checks after the round trip')
  // interpretTransferMessage reads a request (ours) as nothing that ends a transfer.
  assert.equal(interpretTransferMessage(read).kind, 'pending')
})

test('a DealPayment is a 3-key map: ID, PaymentChannel as address bytes, PaymentVoucher as the 11-tuple', () => {
  const { sv } = voucher(5n, 2n)
  const bytes = encodeDealPayment({ id: 7n, paymentChannel: channel, paymentVoucher: sv })
  const node = decodeDagCbor(bytes) as Record<string, unknown>
  assert.deepEqual(Object.keys(node).sort(), ['ID', 'PaymentChannel', 'PaymentVoucher'])
  assert.equal(node.ID, 7)
  assert.deepEqual(
    Uint8Array.from(node.PaymentChannel as Uint8Array),
    Uint8Array.of(channel.protocol, ...channel.payload)
  )
  assert.ok(Array.isArray(node.PaymentVoucher) && node.PaymentVoucher.length === 11)
  const back = decodeDealPayment(bytes)
  assert.equal(back.paymentVoucher?.nonce, 2n)
  assert.deepEqual(back.paymentVoucher?.signature, sv.signature)
  assert.deepEqual(dealPaymentFromNode(dealPaymentToNode({ id: 7n, paymentChannel: channel, paymentVoucher: null })), {
    id: 7n,
    paymentChannel: back.paymentChannel,
    paymentVoucher: null
  })
})

test('refuses a malformed DealPayment, naming the key', () => {
  const { sv } = voucher(5n, 2n)
  const node = dealPaymentToNode({ id: 7n, paymentChannel: channel, paymentVoucher: sv })
  assert.throws(() => dealPaymentFromNode({ ...node, Extra: 1 }), /DealPayment: unknown key "Extra"/)
  assert.throws(
    () => dealPaymentFromNode({ ID: 7, PaymentChannel: node.PaymentChannel }),
    /missing key "PaymentVoucher"/
  )
  assert.throws(
    () => dealPaymentFromNode({ ...node, PaymentChannel: Uint8Array.of(9, 1) }),
    (err: Error) => err.name === 'MalformedTransferMessageError' && err.message.startsWith('DealPayment.PaymentChannel')
  )
  assert.throws(
    () => dealPaymentFromNode({ ...node, PaymentVoucher: [1, 2] }),
    (err: Error) => err.name === 'MalformedTransferMessageError' && err.message.startsWith('DealPayment.PaymentVoucher')
  )
  assert.throws(() => decodeDealPayment(Uint8Array.of(0xff)), /DealPayment: not DAG-CBOR/)
})

test('FundsNeededUnseal, FundsNeeded and FundsNeededLastPayment read as demands for PaymentOwed', () => {
  for (const status of [DealStatus.FundsNeededUnseal, DealStatus.FundsNeeded, DealStatus.FundsNeededLastPayment]) {
    const outcome = interpretTransferMessage({
      isRequest: false,
      response: {
        type: MessageType.VoucherResult,
        accepted: true,
        paused: true,
        transferId: 4n,
        voucherType: VoucherType.DealResponse,
        voucherResult: { Status: status, ID: 1, PaymentOwed: Uint8Array.of(0, 1, 0), Message: '' }
      }
    })
    assert.equal(outcome.kind, 'paused-for-payment')
    assert.equal(outcome.paymentOwed, 256n)
  }
  // A proposal's terms read back as they went out.
  const proposal = createPaidRetrievalProposal({
    payloadCid: root,
    id: 1n,
    selector: exploreAll,
    ask: { minPricePerByte: 1n, unsealPrice: 0n, maxPaymentInterval: 10n, maxPaymentIntervalIncrease: 0n }
  })
  assert.equal(dealProposalFromNode(dealProposalToNode(proposal)).params.pricePerByte, 1n)
})
