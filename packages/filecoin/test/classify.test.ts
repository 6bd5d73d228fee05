import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  classifyProviderError,
  DealRejectedError,
  DealStatus,
  dealResponseToNode,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_INCOMING_REQUEST,
  MessageType,
  PaymentRequiredError,
  ProviderErrorClass,
  transferMessageToNode,
  VoucherType
} from '../src/index.ts'

test('classes a provider message by its words, rejected when nothing matches', () => {
  const cases: [string, string][] = [
    ['too many retrieval deals received', 'too_many_deals'],
    ['Too Many concurrent retrievals', 'too_many_deals'],
    ['exceeded concurrent transfers limit', 'too_many_deals'],
    ['Under maintenance, retry later', 'under_maintenance'],
    ['Access Control: client is not on the allow list', 'access_control'],
    ['request denied by deal filter', 'access_control'],
    ['peer not allowed', 'access_control'],
    ['Unauthorized', 'access_control'],
    ['unauthorised client', 'access_control'],
    ['timeout waiting for unseal', 'timeout'],
    ['there is no unsealed piece containing payload cid bafk...', 'rejected'],
    ['', 'rejected']
  ]
  for (const [message, expected] of cases) assert.equal(classifyProviderError(message), expected, message)
})

test('classes a rejection error by the provider message it carries', () => {
  const rejected = (message: string) =>
    new DealRejectedError(`12D3KooWProv rejected the deal: ${message}`, { providerMessage: message, dealStatus: 9 })
  assert.equal(classifyProviderError(rejected('incorrect CID for this proposal')), ProviderErrorClass.Rejected)
  assert.equal(classifyProviderError(rejected('too many retrieval deals received')), ProviderErrorClass.TooManyDeals)
  assert.equal(classifyProviderError(rejected('miner under maintenance')), ProviderErrorClass.UnderMaintenance)
  // Wrapped by the retriever (AttemptError with a cause): the cause decides.
  const wrapped = new Error('attempt failed', { cause: rejected('access denied') })
  assert.equal(classifyProviderError(wrapped), ProviderErrorClass.AccessControl)
})

test('classes timeouts by error name wherever they are in the cause chain', async () => {
  const signal = AbortSignal.timeout(1)
  await new Promise((resolve) => setTimeout(resolve, 20))
  assert.equal(classifyProviderError(signal.reason), 'timeout')
  assert.equal(classifyProviderError(new DOMException('The operation timed out', 'TimeoutError')), 'timeout')
  assert.equal(
    classifyProviderError(new Error('retrieval failed', { cause: new DOMException('x', 'TimeoutError') })),
    'timeout'
  )
  assert.equal(classifyProviderError(new Error('no new bytes for 20s: timed out')), 'timeout')
})

test('reads a rejection out of a Graphsync failure that keeps the response extensions', () => {
  const message = (text: string) =>
    transferMessageToNode({
      isRequest: false,
      response: {
        type: MessageType.New,
        accepted: false,
        paused: false,
        transferId: 1n,
        voucherType: VoucherType.DealResponse,
        voucherResult: dealResponseToNode({ status: DealStatus.Rejected, id: 1n, paymentOwed: 0n, message: text })
      }
    })
  // The shape of @autoretrieve/graphsync's RequestFailedError.
  const failed = (status: number, extensions: Record<string, unknown>) =>
    Object.assign(new Error(`graphsync request failed with status ${status}`), {
      name: 'RequestFailedError',
      status,
      extensions
    })
  const tooMany = message('too many retrieval deals received')
  assert.equal(
    classifyProviderError(failed(32, { [EXTENSION_INCOMING_REQUEST]: tooMany, [EXTENSION_DATA_TRANSFER]: tooMany })),
    'too_many_deals'
  )
  assert.equal(
    classifyProviderError(failed(32, { [EXTENSION_DATA_TRANSFER]: message('no unsealed piece') })),
    'rejected'
  )
  assert.equal(classifyProviderError(failed(30, {})), 'rejected')
  assert.equal(classifyProviderError(failed(32, {})), 'other')
  assert.equal(classifyProviderError(failed(32, { [EXTENSION_DATA_TRANSFER]: 'garbage' })), 'other')
})

test('anything else is other', () => {
  assert.equal(classifyProviderError(new Error('connection reset by peer')), 'other')
  assert.equal(classifyProviderError(new PaymentRequiredError('provider asks for payment', 5n)), 'other')
  assert.equal(classifyProviderError(undefined), 'other')
  assert.equal(classifyProviderError({ message: 'too many' }), 'other')
  assert.equal(classifyProviderError(new Error('deal rejected by provider')), 'rejected')
})
