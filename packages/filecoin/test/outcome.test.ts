import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  DealStatus,
  dealResponseToNode,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_INCOMING_REQUEST,
  EXTENSION_OUTGOING_BLOCK,
  findTransferMessage,
  interpretTransferMessage,
  MessageType,
  type TransferMessage,
  transferMessageToNode,
  transferOutcomeError,
  VoucherType
} from '../src/index.ts'

function response(type: number, accepted: boolean, status?: number, message = '', owed = 0n): TransferMessage {
  return {
    isRequest: false,
    response: {
      type,
      accepted,
      paused: status === DealStatus.FundsNeeded,
      transferId: 7n,
      voucherType: status === undefined ? '' : VoucherType.DealResponse,
      voucherResult: status === undefined ? null : dealResponseToNode({ status, id: 9n, paymentOwed: owed, message })
    }
  }
}

test('looks for the message under incoming-request, then data-transfer, then outgoing-block', () => {
  const a = transferMessageToNode(response(MessageType.New, true, DealStatus.Accepted))
  const b = transferMessageToNode(response(MessageType.New, false, DealStatus.Rejected, 'no'))
  const c = transferMessageToNode(response(MessageType.VoucherResult, true, DealStatus.FundsNeeded))
  const kind = (ext: Record<string, unknown>) => {
    const message = findTransferMessage(ext)
    return message === undefined ? undefined : interpretTransferMessage(message).kind
  }
  assert.equal(
    kind({ [EXTENSION_OUTGOING_BLOCK]: c, [EXTENSION_DATA_TRANSFER]: b, [EXTENSION_INCOMING_REQUEST]: a }),
    'accepted'
  )
  assert.equal(kind({ [EXTENSION_OUTGOING_BLOCK]: c, [EXTENSION_DATA_TRANSFER]: b }), 'rejected')
  assert.equal(kind({ [EXTENSION_OUTGOING_BLOCK]: c, 'graphsync/response-metadata': true }), 'paused-for-payment')
  assert.equal(kind({ [EXTENSION_INCOMING_REQUEST]: null, [EXTENSION_DATA_TRANSFER]: b }), 'rejected')
  assert.equal(findTransferMessage({}), undefined)
  assert.equal(findTransferMessage(undefined), undefined)
  assert.throws(() => findTransferMessage({ [EXTENSION_DATA_TRANSFER]: { IsRq: false } }), {
    name: 'MalformedTransferMessageError'
  })
})

test('reads each provider answer as what it means for the retrieval', () => {
  const cases: [TransferMessage, string][] = [
    [response(MessageType.New, true, DealStatus.Accepted), 'accepted'],
    [response(MessageType.New, true), 'accepted'],
    [response(MessageType.Restart, true), 'accepted'],
    [response(MessageType.New, false, DealStatus.Rejected, 'no unsealed piece'), 'rejected'],
    [response(MessageType.New, false), 'rejected'],
    [response(MessageType.Complete, true, DealStatus.Completed), 'completed'],
    [response(MessageType.Complete, true), 'completed'],
    [response(MessageType.Complete, false), 'errored'],
    [response(MessageType.VoucherResult, true, DealStatus.FundsNeeded, '', 100n), 'paused-for-payment'],
    [response(MessageType.VoucherResult, true, DealStatus.FundsNeededLastPayment, '', 1n), 'paused-for-payment'],
    [response(MessageType.New, true, DealStatus.FundsNeededUnseal, '', 5n), 'paused-for-payment'],
    [response(MessageType.Cancel, true), 'cancelled'],
    [response(MessageType.VoucherResult, true, DealStatus.Cancelled), 'cancelled'],
    [response(MessageType.VoucherResult, true, DealStatus.Errored, 'boom'), 'errored'],
    [response(MessageType.VoucherResult, true, DealStatus.DealNotFound), 'errored'],
    [response(MessageType.Update, true), 'pending'],
    [response(MessageType.VoucherResult, true, DealStatus.Ongoing), 'pending']
  ]
  for (const [message, kind] of cases) {
    const outcome = interpretTransferMessage(message)
    assert.equal(
      outcome.kind,
      kind,
      JSON.stringify(message, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
    )
    assert.equal(outcome.transferId, 7n)
  }
  const paused = interpretTransferMessage(response(MessageType.VoucherResult, true, DealStatus.FundsNeeded, '', 100n))
  assert.equal(paused.paymentOwed, 100n)
  const rejected = interpretTransferMessage(response(MessageType.New, false, DealStatus.Rejected, 'no unsealed piece'))
  assert.equal(rejected.message, 'no unsealed piece')
  assert.equal(rejected.dealResponse?.id, 9n)
})

test('a Cancel request from the provider cancels; other requests are pending', () => {
  const request = (type: number): TransferMessage => ({
    isRequest: true,
    request: {
      type,
      baseCid: null,
      paused: false,
      partial: false,
      pull: false,
      selector: null,
      voucher: null,
      voucherType: '',
      transferId: 7n,
      restartChannel: { initiator: new Uint8Array(0), responder: new Uint8Array(0), id: 0n }
    }
  })
  assert.equal(interpretTransferMessage(request(MessageType.Cancel)).kind, 'cancelled')
  assert.equal(interpretTransferMessage(request(MessageType.Update)).kind, 'pending')
})

test('failed outcomes become typed errors that keep the provider message', () => {
  const error = (message: TransferMessage) => transferOutcomeError(interpretTransferMessage(message), '12D3KooWProv')
  const rejected = error(response(MessageType.New, false, DealStatus.Rejected, 'under maintenance'))
  assert.equal(rejected?.name, 'DealRejectedError')
  assert.equal((rejected as Error & { code: string }).code, 'ERR_DEAL_REJECTED')
  assert.equal((rejected as Error & { providerMessage: string }).providerMessage, 'under maintenance')
  assert.match(rejected?.message ?? '', /12D3KooWProv rejected the deal: under maintenance/)
  const payment = error(response(MessageType.VoucherResult, true, DealStatus.FundsNeeded, '', 100n))
  assert.equal(payment?.name, 'PaymentRequiredError')
  assert.equal((payment as Error & { paymentOwed: bigint }).paymentOwed, 100n)
  assert.equal(error(response(MessageType.Cancel, true))?.name, 'TransferCancelledError')
  assert.equal(error(response(MessageType.VoucherResult, true, DealStatus.Errored))?.name, 'DealFailedError')
  assert.equal(error(response(MessageType.New, true, DealStatus.Accepted)), undefined)
  assert.equal(error(response(MessageType.Complete, true, DealStatus.Completed)), undefined)
})
