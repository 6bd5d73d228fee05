import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeDagCbor } from '@autoretrieve/graphsync'
import { CID } from 'multiformats/cid'
import {
  classifyProviderError,
  createFreeRetrievalProposal,
  createTransferPullRequest,
  DATA_TRANSFER_PROTOCOL,
  dealResponseToNode,
  encodeTransferMessage,
  MessageType,
  type ReadTransferMessagesOptions,
  readTransferMessages,
  type TransferMessage,
  TransferReadTimeoutError,
  VoucherType
} from '../src/index.ts'
import { exploreAll } from './helpers.ts'

const root = CID.parse('bafkreidommkdieserxbbcbz24z6nblwdvxlrxnn33pzi6ypi35ckvlr7gm')

function complete(transferId: bigint): TransferMessage {
  return {
    isRequest: false,
    response: {
      type: MessageType.Complete,
      accepted: true,
      paused: false,
      transferId,
      voucherType: VoucherType.DealResponse,
      voucherResult: dealResponseToNode({ status: 15, id: 1234n, paymentOwed: 0n, message: '' })
    }
  }
}

const messages: TransferMessage[] = [
  createTransferPullRequest({
    root,
    selector: exploreAll,
    voucher: createFreeRetrievalProposal({ payloadCid: root, id: 1_700_000_000_000_000_001n, selector: exploreAll }),
    transferId: 1_700_000_000_000_000_002n
  }),
  complete(5678n),
  { isRequest: true, request: { ...cancelRequest() } }
]

function cancelRequest() {
  return {
    type: MessageType.Cancel,
    baseCid: null,
    paused: false,
    partial: false,
    pull: false,
    selector: null,
    voucher: null,
    voucherType: '',
    transferId: 42n,
    restartChannel: { initiator: new Uint8Array(0), responder: new Uint8Array(0), id: 0n }
  }
}

const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))
const wire = concat(messages.map(encodeTransferMessage))

async function* chunks<T>(parts: T[]): AsyncGenerator<T> {
  for (const part of parts) yield part
}

async function collect(source: AsyncIterable<Uint8Array | { subarray(): Uint8Array }>, max?: number) {
  const out: TransferMessage[] = []
  for await (const message of readTransferMessages(source, { maxMessageBytes: max })) out.push(message)
  return out
}

test('the protocol is /fil/datatransfer/1.2.0', () => {
  assert.equal(DATA_TRANSFER_PROTOCOL, '/fil/datatransfer/1.2.0')
})

test('reads consecutive messages split at every byte boundary', async () => {
  for (let cut = 0; cut <= wire.length; cut++) {
    const decoded = await collect(chunks([wire.subarray(0, cut), wire.subarray(cut)]))
    assert.deepEqual(decoded, messages, `cut at ${cut}`)
  }
})

test('reads messages arriving one byte at a time, and from Uint8ArrayList-like chunks', async () => {
  const bytes = [...wire].map((b) => Uint8Array.of(b))
  assert.deepEqual(await collect(chunks(bytes)), messages)
  // Lists of several parts, as libp2p streams give them.
  const lists = []
  for (let i = 0; i < wire.length; i += 7) {
    const part = wire.subarray(i, i + 7)
    lists.push({ subarray: () => part.slice() })
  }
  assert.deepEqual(await collect(chunks(lists)), messages)
})

test('a value that fills the bound exactly is read; one byte more is too large', async () => {
  const one = encodeTransferMessage(messages[0])
  assert.deepEqual(await collect(chunks([one]), one.length), [messages[0]])
  await assert.rejects(collect(chunks([one]), one.length - 1), {
    name: 'TransferMessageTooLargeError',
    code: 'ERR_TRANSFER_MESSAGE_TOO_LARGE'
  })
})

test('refuses a declared length past 4 MiB without waiting for the bytes', async () => {
  // A map whose first key is a 5 MiB text string: only the header ever arrives.
  const header = Uint8Array.of(0xa3, 0x7a, 0x00, 0x50, 0x00, 0x00)
  let pulled = 0
  async function* slow() {
    pulled++
    yield header
    pulled++
    await new Promise(() => {}) // never more
  }
  await assert.rejects(collect(slow()), { name: 'TransferMessageTooLargeError' })
  assert.equal(pulled, 1)
  // A list declaring more items than bytes allowed.
  await assert.rejects(collect(chunks([Uint8Array.of(0x9b, 0, 0, 0, 1, 0, 0, 0, 0)])), {
    name: 'TransferMessageTooLargeError'
  })
})

test('a stream that ends inside a message is truncated after the whole ones', async () => {
  const out: TransferMessage[] = []
  await assert.rejects(
    async () => {
      for await (const m of readTransferMessages(chunks([wire.subarray(0, wire.length - 3)]))) out.push(m)
    },
    { name: 'TruncatedTransferMessageError', code: 'ERR_TRUNCATED_TRANSFER_MESSAGE' }
  )
  assert.deepEqual(out, messages.slice(0, 2))
})

test('an empty stream has no messages', async () => {
  assert.deepEqual(await collect(chunks([])), [])
  assert.deepEqual(await collect(chunks([new Uint8Array(0)])), [])
})

test('refuses a value that is not a TransferMessage, and CBOR that DAG-CBOR forbids', async () => {
  await assert.rejects(collect(chunks([encodeDagCbor({ IsRq: true })])), { name: 'MalformedTransferMessageError' })
  await assert.rejects(collect(chunks([Uint8Array.of(0xbf, 0xff)])), { name: 'MalformedTransferMessageError' })
  await assert.rejects(collect(chunks([Uint8Array.of(0xa1, 0x61, 0x61, 0xf9, 0x7e, 0x00)])), {
    name: 'MalformedTransferMessageError'
  })
})

test('an abort stops a read waiting on the source and ends the source', async () => {
  let ended = false
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      return {
        next: () => new Promise<IteratorResult<Uint8Array>>(() => {}),
        return: async () => {
          ended = true
          return { done: true, value: undefined }
        }
      }
    }
  }
  const controller = new AbortController()
  const reading = readTransferMessages(source, { signal: controller.signal }).next()
  controller.abort(new Error('shutting down'))
  await assert.rejects(reading, /shutting down/)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(ended, true)
  await assert.rejects(readTransferMessages(source, { signal: controller.signal }).next(), /shutting down/)
})

test('breaking out of the loop ends the source', async () => {
  let ended = false
  async function* source() {
    try {
      yield wire
      yield wire
    } finally {
      ended = true
    }
  }
  for await (const _ of readTransferMessages(source())) break
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(ended, true)
})

test('a peer that sends nothing for longer than the message deadline times out, and the source ends', async () => {
  let ended = false
  let reads = 0
  const stalled: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      return {
        next: () =>
          reads++ === 0
            ? Promise.resolve({ done: false, value: wire.subarray(0, 10) })
            : new Promise<IteratorResult<Uint8Array>>(() => {}),
        return: async () => {
          ended = true
          return { done: true, value: undefined }
        }
      }
    }
  }
  const started = Date.now()
  await assert.rejects(collectWith(stalled, { messageTimeoutMs: 50 }), {
    name: 'TransferReadTimeoutError',
    code: 'ERR_TRANSFER_READ_TIMEOUT'
  })
  assert.ok(Date.now() - started < 5_000)
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(ended, true)
  assert.equal(classifyProviderError(new TransferReadTimeoutError('x')), 'timeout')
})

test('the deadline is per message and does not count the time the consumer takes', async (t) => {
  // Mocked clock: the reader's deadline timer only moves when the test ticks it, so no threshold
  // depends on how fast this machine is.
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const flush = () => new Promise((resolve) => setImmediate(resolve))
  let release: () => void = () => {}
  async function* paced() {
    for (const message of messages) {
      // Each message arrives 50 ms after the reader asks: within the 60 ms deadline each time,
      // though the three together take longer than one deadline.
      await new Promise<void>((resolve) => {
        release = resolve
      })
      yield encodeTransferMessage(message)
    }
  }
  const reader = readTransferMessages(paced(), { messageTimeoutMs: 60 })
  const out: TransferMessage[] = []
  for (let i = 0; i < messages.length; i++) {
    const next = reader.next()
    await flush()
    t.mock.timers.tick(50)
    release()
    const result = await next
    assert.equal(result.done, false)
    out.push(result.value as TransferMessage)
    // The consumer holds the message for a second: no deadline runs while it does.
    t.mock.timers.tick(1_000)
  }
  const end = reader.next()
  await flush()
  assert.deepEqual(await end, { done: true, value: undefined })
  assert.deepEqual(out, messages)
})

async function collectWith(source: AsyncIterable<Uint8Array>, options: ReadTransferMessagesOptions) {
  const out: TransferMessage[] = []
  for await (const message of readTransferMessages(source, options)) out.push(message)
  return out
}
