import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BinaryString, decodeDagCbor, encodeDagCbor } from '@autoretrieve/graphsync'
import { CID } from 'multiformats/cid'
import {
  createFreeRetrievalProposal,
  createTransferPullRequest,
  DealStatus,
  dealProposalFromNode,
  dealProposalToNode,
  dealResponseFromNode,
  decodeTransferMessage,
  encodeTransferMessage,
  MessageType,
  type TransferMessage,
  transferMessageFromNode,
  transferMessageToNode
} from '../src/index.ts'
import { exploreAll, toHex } from './helpers.ts'

const root = CID.parse('bafkreidommkdieserxbbcbz24z6nblwdvxlrxnn33pzi6ypi35ckvlr7gm')
const GO_TRANSFER_ID = 1_700_000_000_123_456_789n

function pull(transferId = 5678n, id = 1234n): TransferMessage {
  const voucher = createFreeRetrievalProposal({ payloadCid: root, id, selector: exploreAll })
  return createTransferPullRequest({ root, selector: exploreAll, voucher, transferId })
}

/** The pull request's data-model form, to break one key at a time. */
function pullNode(): { IsRq: unknown; Request: Record<string, unknown>; Response: unknown } {
  return transferMessageToNode(pull()) as { IsRq: unknown; Request: Record<string, unknown>; Response: unknown }
}

function rejects(value: unknown, ...fragments: string[]): void {
  assert.throws(
    () => transferMessageFromNode(value),
    (err: Error & { code?: string }) => {
      assert.equal(err.name, 'MalformedTransferMessageError')
      assert.equal(err.code, 'ERR_MALFORMED_TRANSFER_MESSAGE')
      for (const fragment of fragments) assert.ok(err.message.includes(fragment), `"${err.message}" names ${fragment}`)
      return true
    }
  )
}

test('refuses a message missing a key, naming the key and the part', () => {
  for (const key of ['BCid', 'Type', 'Paus', 'Part', 'Pull', 'Stor', 'Vouch', 'VTyp', 'XferID', 'RestartChannel']) {
    const node = pullNode()
    delete node.Request[key]
    rejects(node, 'TransferRequest', 'missing', `"${key}"`)
  }
  const node = pullNode()
  delete (node as Record<string, unknown>).Response
  rejects(node, 'TransferMessage', 'missing', '"Response"')
  const response = transferMessageToNode(decodeTransferMessage(encodeTransferMessage(accepted()))) as {
    Response: Record<string, unknown>
  }
  delete response.Response.VTyp
  rejects(response, 'TransferResponse', 'missing', '"VTyp"')
})

test('refuses a message with a key the schema does not have', () => {
  const node = pullNode()
  node.Request.Extra = 1
  rejects(node, 'TransferRequest', 'unknown', '"Extra"')
  const top = { ...pullNode(), Version: 2 }
  rejects(top, 'TransferMessage', 'unknown', '"Version"')
})

test('refuses values of the wrong type', () => {
  const cases: [string, unknown, string][] = [
    ['XferID', 'x', 'TransferRequest.XferID'],
    ['XferID', -1, 'TransferRequest.XferID'],
    ['XferID', 1.5, 'TransferRequest.XferID'],
    ['XferID', 1n << 64n, 'TransferRequest.XferID'],
    ['Type', true, 'TransferRequest.Type'],
    ['Pull', 1, 'TransferRequest.Pull'],
    ['BCid', root.bytes, 'TransferRequest.BCid'],
    ['VTyp', null, 'TransferRequest.VTyp'],
    ['RestartChannel', ['', ''], 'TransferRequest.RestartChannel'],
    ['RestartChannel', [new Uint8Array(1), '', 0], 'TransferRequest.RestartChannel[0]'],
    ['RestartChannel', ['', '', -1], 'TransferRequest.RestartChannel[2]']
  ]
  for (const [key, value, where] of cases) {
    const node = pullNode()
    node.Request[key] = value
    rejects(node, where)
  }
  rejects([true, null, null], 'TransferMessage', 'a map')
  rejects({ ...pullNode(), IsRq: 1 }, 'TransferMessage.IsRq', 'a bool')
  rejects({ ...pullNode(), Request: null }, 'IsRq is true but Request is null')
  rejects({ IsRq: false, Request: null, Response: null }, 'IsRq is false but Response is null')
})

test('refuses bytes that are not one DAG-CBOR value', () => {
  const bytes = encodeTransferMessage(pull())
  for (const bad of [bytes.subarray(0, bytes.length - 1), Uint8Array.of(...bytes, 0), Uint8Array.of(0xff)]) {
    assert.throws(() => decodeTransferMessage(bad), { name: 'MalformedTransferMessageError' })
  }
})

test('keeps 64-bit transfer and deal IDs exact as bigints', () => {
  for (const id of [GO_TRANSFER_ID, (1n << 64n) - 1n, 2n ** 53n, 2n ** 53n - 1n, 0n]) {
    const bytes = encodeTransferMessage(pull(id, id))
    const decoded = decodeTransferMessage(bytes)
    assert.ok(decoded.isRequest)
    assert.equal(decoded.request.transferId, id)
    assert.equal(dealProposalFromNode(decoded.request.voucher).id, id)
    assert.equal(toHex(encodeTransferMessage(decoded)), toHex(bytes))
  }
  // Shortest form: a Go-sized ID is an 8-byte integer (0x1b), 5678 a 2-byte one (0x19 162e).
  assert.ok(toHex(encodeTransferMessage(pull(GO_TRANSFER_ID))).includes('66586665724944' + '1b'))
  assert.throws(() => encodeTransferMessage(pull(1n << 64n)), RangeError)
  assert.throws(() => encodeTransferMessage(pull(-1n)), RangeError)
})

test('carries binary peer IDs in the channel byte for byte', () => {
  // An Ed25519 identity multihash is not UTF-8 (0xff bytes here): a text string of raw bytes.
  const initiator = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(0xff))
  const responder = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(0x41))
  const message: TransferMessage = {
    isRequest: true,
    request: {
      type: MessageType.RestartExistingChannelRequest,
      baseCid: null,
      paused: false,
      partial: false,
      pull: false,
      selector: null,
      voucher: null,
      voucherType: '',
      transferId: 0n,
      restartChannel: { initiator, responder, id: GO_TRANSFER_ID }
    }
  }
  const bytes = encodeTransferMessage(message)
  assert.ok(toHex(bytes).includes('7826' + toHex(initiator)), 'a 38-byte text string holding the raw bytes')
  const decoded = decodeTransferMessage(bytes)
  assert.deepEqual(decoded, message)
  assert.equal(toHex(encodeTransferMessage(decoded)), toHex(bytes))
  // The data-model form is what the decoder gives: a BinaryString for non-UTF-8, a string otherwise.
  const node = transferMessageToNode(message) as { Request: { RestartChannel: unknown[] } }
  assert.ok(node.Request.RestartChannel[0] instanceof BinaryString)
  assert.equal(typeof node.Request.RestartChannel[1], 'string')
  assert.equal(toHex(encodeDagCbor(node)), toHex(bytes))
  const wire = decodeDagCbor(bytes) as { Request: { RestartChannel: unknown[] } }
  assert.ok(wire.Request.RestartChannel[0] instanceof BinaryString)
})

test('accepts keys in any order (the Go vectors check it on the wire)', () => {
  const node = pullNode()
  const reversed = Object.fromEntries(Object.entries(node.Request).reverse())
  assert.deepEqual(transferMessageFromNode({ Response: null, Request: reversed, IsRq: true }), pull())
})

test('the pull request is a New pull with the free proposal and an empty channel', () => {
  const message = pull()
  assert.ok(message.isRequest)
  const { request } = message
  assert.equal(request.type, MessageType.New)
  assert.deepEqual([request.pull, request.paused, request.partial], [true, false, false])
  assert.equal(request.voucherType, 'RetrievalDealProposal/1')
  const node = transferMessageToNode(message) as { Request: { RestartChannel: unknown } }
  assert.deepEqual(node.Request.RestartChannel, ['', '', 0])
  const proposal = dealProposalToNode(dealProposalFromNode(request.voucher)) as { Params: Record<string, unknown> }
  assert.deepEqual(proposal.Params.PricePerByte, new Uint8Array(0))
  assert.deepEqual(proposal.Params.UnsealPrice, new Uint8Array(0))
  assert.equal(proposal.Params.PieceCID, null)
  assert.throws(
    () =>
      createTransferPullRequest({
        root: CID.parse('bafkqaaa'),
        selector: exploreAll,
        voucher: dealProposalFromNode(request.voucher),
        transferId: 1n
      }),
    RangeError
  )
})

test('refuses malformed vouchers, naming the key', () => {
  const proposal = dealProposalToNode(createFreeRetrievalProposal({ payloadCid: root, id: 1n, selector: null })) as {
    Params: Record<string, unknown>
  }
  proposal.Params.Extra = 0
  assert.throws(() => dealProposalFromNode(proposal), /DealProposal\.Params: unknown key "Extra"/)
  delete proposal.Params.Extra
  proposal.Params.PricePerByte = Uint8Array.of(2, 1)
  assert.throws(
    () => dealProposalFromNode(proposal),
    (err: Error) =>
      err.name === 'MalformedTransferMessageError' &&
      err.message.includes('PricePerByte') &&
      (err.cause as Error).name === 'InvalidBigIntBytesError'
  )
  assert.throws(
    () => dealResponseFromNode({ Status: 6, ID: 1, PaymentOwed: new Uint8Array(0) }),
    /missing key "Message"/
  )
  assert.throws(
    () => dealResponseFromNode({ Status: 6, ID: 1, PaymentOwed: '', Message: '' }),
    /PaymentOwed: expected bytes/
  )
  // A Message that is not UTF-8 still reads (U+FFFD for bad bytes).
  const odd = dealResponseFromNode({
    Status: DealStatus.Rejected,
    ID: 1,
    PaymentOwed: Uint8Array.of(0, 5),
    Message: new BinaryString(Uint8Array.of(0x6e, 0x6f, 0xff))
  })
  assert.deepEqual(odd, { status: 9, id: 1n, paymentOwed: 5n, message: 'no\uFFFD' })
})

function accepted(): TransferMessage {
  return {
    isRequest: false,
    response: {
      type: MessageType.New,
      accepted: true,
      paused: false,
      transferId: 1n,
      voucherResult: null,
      voucherType: ''
    }
  }
}
