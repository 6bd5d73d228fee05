import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_QUERY_RESPONSE_BYTES } from '@autoretrieve/interface'
import { CID } from 'multiformats/cid'
import {
  decodeQueryResponse,
  decodeRetrievalQuery,
  encodeQueryResponse,
  encodeRetrievalQuery,
  isPricedAsk,
  QueryFailedError,
  type QueryResponse,
  QueryResponseStatus,
  queryProvider,
  queryTotalCost,
  RETRIEVAL_QUERY_PROTOCOL
} from '../src/index.ts'
import { fromHex, loopbackNode, toHex } from './helpers.ts'

const root = CID.parse('bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
const rootHex = '01551220b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9'
const str = (s: string) => toHex(Uint8Array.of(0x60 + s.length)) + Buffer.from(s).toString('hex')

// data-transfer.md §7: Query = {PayloadCID: link, QueryParams: {PieceCID: nullable link}}, DAG-CBOR
// (keys length-first: "PayloadCID" before "QueryParams").
const QUERY_HEX = [
  'a2', // map(2)
  str('PayloadCID'),
  'd82a', // tag 42 (link)
  '5825', // bytes(37)
  `00${rootHex}`, // the multibase identity prefix, then the CID
  str('QueryParams'),
  'a1', // map(1)
  str('PieceCID'),
  'f6' // null: any piece (what Lassie sent)
].join('')

// A QueryResponse in Go's field order (cbor-gen writes struct order, not canonical order).
const RESPONSE_HEX = [
  'a9', // map(9)
  str('Status'),
  '00', // Available
  str('PieceCIDFound'),
  '00',
  str('Size'),
  '190400', // 1024
  str('PaymentAddress'),
  '4300e807', // bytes(3): f01000 (ID protocol 0, leb128 1000)
  str('MinPricePerByte'),
  '420002', // big-int bytes: sign 0, magnitude 2
  str('MaxPaymentInterval'),
  '1a00100000', // 1 MiB
  `781a${Buffer.from('MaxPaymentIntervalIncrease').toString('hex')}`, // text(26) needs a length byte
  '1a00100000',
  str('Message'),
  '60', // ""
  str('UnsealPrice'),
  '40' // big-int zero: empty bytes
].join('')

const ask: QueryResponse = {
  status: QueryResponseStatus.Available,
  pieceCidFound: 0,
  size: 1024n,
  paymentAddress: Uint8Array.of(0x00, 0xe8, 0x07),
  minPricePerByte: 2n,
  maxPaymentInterval: 1n << 20n,
  maxPaymentIntervalIncrease: 1n << 20n,
  message: '',
  unsealPrice: 0n
}

test('the Query encodes byte for byte as spec §7 shapes it, and decodes back', () => {
  assert.equal(toHex(encodeRetrievalQuery({ payloadCid: root })), QUERY_HEX)
  const back = decodeRetrievalQuery(fromHex(QUERY_HEX))
  assert.ok(back.payloadCid.equals(root))
  assert.equal(back.pieceCid, null)
})

test('a QueryResponse in Go field order decodes into every field', () => {
  assert.deepEqual(decodeQueryResponse(fromHex(RESPONSE_HEX)), ask)
  assert.equal(queryTotalCost(ask), 2048n)
  assert.equal(isPricedAsk(ask), true)
  assert.equal(isPricedAsk({ minPricePerByte: 0n, unsealPrice: 0n }), false)
  assert.equal(isPricedAsk({ minPricePerByte: 0n, unsealPrice: 1n }), true)
  // Our encoder writes canonical DAG-CBOR; the same fields come back.
  assert.deepEqual(decodeQueryResponse(encodeQueryResponse(ask)), ask)
})

test('a QueryResponse without Status, or with a wrong-typed field, is refused naming the field', () => {
  assert.throws(() => decodeQueryResponse(fromHex(`a1${str('Size')}01`)), /missing key "Status"/)
  assert.throws(
    () => decodeQueryResponse(fromHex(`a2${str('Status')}00${str('UnsealPrice')}01`)),
    /QueryResponse\.UnsealPrice: expected bytes/
  )
  assert.throws(() => decodeQueryResponse(fromHex('8100')), /QueryResponse: expected a map/)
})

type After = { after(fn: () => Promise<unknown>): void }

type Dial = Parameters<typeof queryProvider>[0]

/** A provider answering queries with `answer`; returns the client's dial to it. */
async function pair(t: After, answer: (query: Uint8Array) => Uint8Array | 'hang' | 'close'): Promise<Dial> {
  const client = await loopbackNode()
  const provider = await loopbackNode()
  t.after(() => Promise.all([client.stop(), provider.stop()]))
  await provider.handle(RETRIEVAL_QUERY_PROTOCOL, async (stream) => {
    for await (const chunk of stream) {
      const reply = answer(chunk instanceof Uint8Array ? chunk : chunk.subarray())
      if (reply === 'hang') return
      if (reply !== 'close') stream.send(reply)
      await stream.close()
      return
    }
  })
  return (protocol, options) => client.dialProtocol(provider.getMultiaddrs(), protocol, options)
}

test('queryProvider asks over /fil/retrieval/qry/1.0.0 and reads the answer', async (t) => {
  let seen: Uint8Array | undefined
  const client = await pair(t, (q) => {
    seen = q
    return fromHex(RESPONSE_HEX)
  })
  const response = await queryProvider(client, root)
  assert.deepEqual(response, ask)
  assert.equal(toHex(seen!), QUERY_HEX)
})

test('an answer declaring more than the cap is refused before it is buffered', async (t) => {
  // A map whose Message claims 1 MiB: refused as soon as the header is read.
  const huge = fromHex(`a1${str('Message')}7a00100000${'41'.repeat(64)}`)
  const client = await pair(t, () => huge)
  await assert.rejects(
    queryProvider(client, root),
    (err: Error) =>
      err instanceof QueryFailedError && err.message.includes(`larger than ${MAX_QUERY_RESPONSE_BYTES} bytes`)
  )
})

test('a provider that never answers fails the query at its timeout; one that closes fails EOF', async (t) => {
  const hang = await pair(t, () => 'hang')
  const started = Date.now()
  await assert.rejects(
    queryProvider(hang, root, { timeoutMs: 200 }),
    (err: Error) => err instanceof QueryFailedError && /timed out after 200 ms/.test(err.message)
  )
  assert.ok(Date.now() - started < 5_000, 'bounded by the timeout')
  const closes = await pair(t, () => 'close')
  await assert.rejects(
    queryProvider(closes, root),
    (err: Error) => err instanceof QueryFailedError && err.message === 'failed to read response: EOF'
  )
})

test('a provider without the query protocol is told apart (unsupported), not a dial failure', async (t) => {
  const client = await loopbackNode()
  const provider = await loopbackNode()
  t.after(() => Promise.all([client.stop(), provider.stop()]))
  await assert.rejects(
    queryProvider((protocol, options) => client.dialProtocol(provider.getMultiaddrs(), protocol, options), root),
    (err: Error) => err instanceof QueryFailedError && err.unsupported && /failed to open stream/.test(err.message)
  )
})
