import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BinaryString, decodeDagCbor, encodeDagCbor } from '@autoretrieve/graphsync'
import { CID } from 'multiformats/cid'
import {
  classifyProviderError,
  createFreeRetrievalProposal,
  createTransferPullRequest,
  DealStatus,
  decodeDealProposal,
  decodeDealResponse,
  decodeTransferMessage,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_INCOMING_REQUEST,
  encodeDealProposal,
  encodeDealResponse,
  encodeTransferMessage,
  findTransferMessage,
  interpretTransferMessage,
  MessageType,
  type TransferMessage,
  transferMessageFromNode,
  transferMessageToNode,
  VoucherType
} from '../src/index.ts'
import { exploreAll, fromHex, loadVectors, toHex } from './helpers.ts'

const constructed = loadVectors('graphsync-datatransfer-dagcbor.json')
const go = loadVectors('data-transfer-go-test-vectors.json')
const v = constructed.vectors
const root = CID.parse(constructed.inputs.rootCid)
const dealId = BigInt(constructed.inputs.dealId ?? 0)
const transferId = BigInt(constructed.inputs.transferId ?? 0)

function pullRequest(): TransferMessage {
  const voucher = createFreeRetrievalProposal({ payloadCid: root, id: dealId, selector: exploreAll })
  return createTransferPullRequest({ root, selector: exploreAll, voucher, transferId })
}

function response(type: number, accepted: boolean, status: number, message: string): TransferMessage {
  return {
    isRequest: false,
    response: {
      type,
      accepted,
      paused: false,
      transferId,
      voucherType: VoucherType.DealResponse,
      voucherResult: { Status: status, ID: Number(dealId), PaymentOwed: new Uint8Array(0), Message: message }
    }
  }
}

test('the selector vector is ExploreAllRecursively', () => {
  assert.equal(toHex(encodeDagCbor(exploreAll)), v.selectorExploreAllRecursively.hex)
})

test('a free retrieval proposal encodes byte for byte and decodes back', () => {
  const proposal = createFreeRetrievalProposal({ payloadCid: root, id: dealId, selector: exploreAll })
  assert.equal(toHex(encodeDealProposal(proposal)), v.dealProposalFree.hex)
  const decoded = decodeDealProposal(fromHex(v.dealProposalFree.hex))
  assert.ok(decoded.payloadCid.equals(root))
  assert.deepEqual({ ...decoded, payloadCid: root }, proposal)
  assert.deepEqual(decoded.params, {
    selector: exploreAll,
    pieceCid: null,
    pricePerByte: 0n,
    paymentInterval: 0n,
    paymentIntervalIncrease: 0n,
    unsealPrice: 0n
  })
})

test('deal responses decode to their status and re-encode byte for byte', () => {
  for (const [name, status] of [
    ['dealResponseAccepted', DealStatus.Accepted],
    ['dealResponseCompleted', DealStatus.Completed]
  ] as const) {
    const decoded = decodeDealResponse(fromHex(v[name].hex))
    assert.deepEqual(decoded, { status, id: dealId, paymentOwed: 0n, message: '' }, name)
    assert.equal(toHex(encodeDealResponse(decoded)), v[name].hex, name)
  }
})

test('the New pull request encodes byte for byte and decodes to the same message', () => {
  const message = pullRequest()
  assert.equal(toHex(encodeTransferMessage(message)), v.dtRequestNewPull.hex)
  const decoded = decodeTransferMessage(fromHex(v.dtRequestNewPull.hex))
  assert.equal(toHex(encodeTransferMessage(decoded)), v.dtRequestNewPull.hex)
  assert.ok(decoded.isRequest)
  assert.equal(decoded.request.type, MessageType.New)
  assert.equal(decoded.request.pull, true)
  assert.equal(decoded.request.voucherType, 'RetrievalDealProposal/1')
  assert.equal(decoded.request.transferId, transferId)
  assert.ok(decoded.request.baseCid?.equals(root))
  assert.deepEqual(decoded.request.restartChannel, {
    initiator: new Uint8Array(0),
    responder: new Uint8Array(0),
    id: 0n
  })
})

test('provider responses decode, read as accepted / rejected / completed, and re-encode byte for byte', () => {
  const rejection = 'there is no unsealed piece containing payload cid ' + root.toString()
  const cases = [
    ['dtResponseNewAccepted', response(MessageType.New, true, DealStatus.Accepted, ''), 'accepted'],
    ['dtResponseNewRejected', response(MessageType.New, false, DealStatus.Rejected, rejection), 'rejected'],
    ['dtResponseComplete', response(MessageType.Complete, true, DealStatus.Completed, ''), 'completed']
  ] as const
  for (const [name, expected, kind] of cases) {
    const bytes = fromHex(v[name].hex)
    assert.equal(toHex(encodeTransferMessage(expected)), v[name].hex, name)
    const decoded = decodeTransferMessage(bytes)
    assert.equal(toHex(encodeTransferMessage(decoded)), v[name].hex, name)
    const outcome = interpretTransferMessage(decoded)
    assert.equal(outcome.kind, kind, name)
    assert.equal(outcome.transferId, transferId)
    assert.equal(outcome.dealResponse?.id, dealId)
  }
  const rejected = interpretTransferMessage(decodeTransferMessage(fromHex(v.dtResponseNewRejected.hex)))
  assert.equal(rejected.message, rejection)
  assert.equal(classifyProviderError(rejected.message), 'rejected')
})

test('the Graphsync New request carries the pull request inline and re-encodes byte for byte', () => {
  const gs = decodeDagCbor(fromHex(v.gsRequestNewWithDataTransfer.hex)) as {
    gs2: { req: [{ ext: Record<string, unknown> }] }
  }
  const [request] = gs.gs2.req
  const message = transferMessageFromNode(request.ext[EXTENSION_DATA_TRANSFER])
  assert.deepEqual(message, decodeTransferMessage(fromHex(v.dtRequestNewPull.hex)))
  assert.deepEqual(transferMessageToNode(message), request.ext[EXTENSION_DATA_TRANSFER])
  // Our own message, put inline where the vector has it, gives the vector's bytes.
  request.ext = { [EXTENSION_DATA_TRANSFER]: transferMessageToNode(pullRequest()) }
  assert.equal(toHex(encodeDagCbor(gs)), v.gsRequestNewWithDataTransfer.hex)
})

test('Graphsync responses yield the provider message from either extension name', () => {
  for (const [name, kind] of [
    ['gsResponsePartialWithBlock', 'accepted'],
    ['gsResponseRejected', 'rejected']
  ] as const) {
    const gs = decodeDagCbor(fromHex(v[name].hex)) as { gs2: { rsp: [{ ext: Record<string, unknown> }] } }
    const [rsp] = gs.gs2.rsp
    const message = findTransferMessage(rsp.ext)
    assert.ok(message !== undefined, name)
    assert.equal(interpretTransferMessage(message).kind, kind, name)
    assert.deepEqual(message, transferMessageFromNode(rsp.ext[EXTENSION_DATA_TRANSFER]))
    // Each inline extension re-encodes byte for byte from the typed message, so does the whole message.
    const node = transferMessageToNode(message)
    assert.equal(toHex(encodeDagCbor(node)), toHex(encodeDagCbor(rsp.ext[EXTENSION_INCOMING_REQUEST])), name)
    rsp.ext = { [EXTENSION_DATA_TRANSFER]: node, [EXTENSION_INCOMING_REQUEST]: node }
    assert.equal(toHex(encodeDagCbor(gs)), v[name].hex, name)
  }
  for (const name of ['gsResponseCompletedFull', 'gsRequestCancel']) {
    const gs = decodeDagCbor(fromHex(v[name].hex)) as { gs2: { rsp?: [{ ext?: Record<string, unknown> }] } }
    assert.equal(findTransferMessage(gs.gs2.rsp?.[0].ext), undefined, name)
  }
})

// --- Go cbor-gen vectors: struct-order keys, non-UTF-8 text strings in test vouchers.

const CANONICAL_REQUEST_KEYS = [
  'BCid',
  'Part',
  'Paus',
  'Pull',
  'Stor',
  'Type',
  'VTyp',
  'Vouch',
  'XferID',
  'RestartChannel'
]
const CANONICAL_RESPONSE_KEYS = ['Acpt', 'Paus', 'Type', 'VRes', 'VTyp', 'XferID']
const text = new TextDecoder()

/** A voucher node in the vector's JSON form: the non-UTF-8 string becomes "<voucherString>". */
function voucherJson(value: unknown, voucherStringHex: string | undefined): unknown {
  if (value === null) return null
  assert.ok(Array.isArray(value) && value.length === 1 && value[0] instanceof BinaryString)
  assert.equal(toHex(value[0].bytes), voucherStringHex)
  return ['<voucherString>']
}

/** A decoded message in the vectors' `decoded` form. */
function asVectorJson(message: TransferMessage, voucherStringHex?: string): unknown {
  if (message.isRequest) {
    const r = message.request
    return {
      IsRq: true,
      Request: {
        BCid: r.baseCid?.toString() ?? null,
        Type: r.type,
        Paus: r.paused,
        Part: r.partial,
        Pull: r.pull,
        Stor: r.selector,
        Vouch: voucherJson(r.voucher, voucherStringHex),
        VTyp: r.voucherType,
        XferID: Number(r.transferId),
        RestartChannel: [
          text.decode(r.restartChannel.initiator),
          text.decode(r.restartChannel.responder),
          Number(r.restartChannel.id)
        ]
      },
      Response: null
    }
  }
  const r = message.response
  return {
    IsRq: false,
    Request: null,
    Response: {
      Type: r.type,
      Acpt: r.accepted,
      Paus: r.paused,
      XferID: Number(r.transferId),
      VRes: voucherJson(r.voucherResult, voucherStringHex),
      VTyp: r.voucherType
    }
  }
}

test('every Go cbor-gen vector decodes to what its "decoded" field says', () => {
  const names = Object.keys(go.vectors)
  assert.equal(names.length, 6)
  for (const name of names) {
    const vector = go.vectors[name]
    const message = decodeTransferMessage(fromHex(vector.hex))
    assert.deepEqual(asVectorJson(message, vector.voucherStringHex), vector.decoded, name)
  }
})

test('Go cbor-gen vectors re-encode in canonical key order to bytes that decode equal', () => {
  for (const name of Object.keys(go.vectors)) {
    const original = fromHex(go.vectors[name].hex)
    const message = decodeTransferMessage(original)
    const canonical = encodeTransferMessage(message)
    assert.notEqual(toHex(canonical), toHex(original), `${name} was written in struct order`)
    assert.equal(canonical.length, original.length, name)
    const again = decodeTransferMessage(canonical)
    assert.deepEqual(asVectorJson(again, go.vectors[name].voucherStringHex), go.vectors[name].decoded, name)
    const node = decodeDagCbor(canonical) as { Request: object | null; Response: object | null }
    assert.deepEqual(Object.keys(node), ['IsRq', 'Request', 'Response'])
    if (node.Request !== null) assert.deepEqual(Object.keys(node.Request), CANONICAL_REQUEST_KEYS, name)
    if (node.Response !== null) assert.deepEqual(Object.keys(node.Response), CANONICAL_RESPONSE_KEYS, name)
    assert.equal(toHex(encodeTransferMessage(decodeTransferMessage(canonical))), toHex(canonical), name)
  }
})

test('the Go RestartExistingChannel vector carries its channel as raw peer bytes', () => {
  const message = decodeTransferMessage(fromHex(go.vectors.restartExistingChannelRequest.hex))
  assert.ok(message.isRequest)
  assert.equal(message.request.type, MessageType.RestartExistingChannelRequest)
  assert.deepEqual(message.request.restartChannel, {
    initiator: new TextEncoder().encode('1'),
    responder: new TextEncoder().encode('2'),
    id: 1n
  })
})
