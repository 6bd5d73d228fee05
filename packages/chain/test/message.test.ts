import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  addressOfKey,
  BuiltinMethod,
  decodeMessage,
  decodeSignedMessage,
  encodeMessage,
  encodeSignedMessage,
  idAddress,
  type Message,
  messageCid,
  messageFromLotusJson,
  messageToLotusJson,
  signedMessageCid,
  signedMessageFromLotusJson,
  signedMessageToLotusJson,
  signMessage,
  verifySignature
} from '../src/index.ts'
import { KEY_A } from './helpers.ts'

const message: Message = {
  version: 0,
  to: idAddress(1000n),
  from: addressOfKey(KEY_A),
  nonce: 7n,
  value: 10n ** 16n,
  gasLimit: 1_000_000n,
  gasFeeCap: 100_000n,
  gasPremium: 99_000n,
  method: BuiltinMethod.Send,
  params: new Uint8Array(0)
}

test('a message round-trips through CBOR and its CID is dag-cbor blake2b-256', () => {
  const bytes = encodeMessage(message)
  assert.equal(bytes[0], 0x8a) // a 10-field tuple
  assert.deepEqual(decodeMessage(bytes), message)
  const cid = messageCid(message)
  assert.equal(cid.version, 1)
  assert.equal(cid.code, 0x71)
  assert.equal(cid.multihash.code, 0xb220)
  assert.match(cid.toString(), /^bafy2bz/)
})

test('a signed message is signed over the message CID and has its own CID', () => {
  const sm = signMessage(message, KEY_A)
  assert.ok(verifySignature(sm.signature, messageCid(message).bytes, message.from))
  assert.deepEqual(decodeSignedMessage(encodeSignedMessage(sm)), sm)
  assert.notEqual(signedMessageCid(sm).toString(), messageCid(message).toString())
})

test('Lotus JSON: strings for big ints, base64 params, the CID alongside', () => {
  const withParams = { ...message, params: new Uint8Array([1, 2, 3]), method: 2n }
  const json = messageToLotusJson(withParams)
  assert.equal(json.Value, '10000000000000000')
  assert.equal(json.Params, 'AQID')
  assert.equal(json.To, 'f01000')
  assert.deepEqual(json.CID, { '/': messageCid(withParams).toString() })
  assert.deepEqual(messageFromLotusJson(JSON.parse(JSON.stringify(json))), withParams)
  assert.equal(messageToLotusJson(message).Params, null)
  const sm = signMessage(message, KEY_A)
  const smJson = JSON.parse(JSON.stringify(signedMessageToLotusJson(sm)))
  assert.equal(smJson.Signature.Type, 1)
  assert.deepEqual(signedMessageFromLotusJson(smJson), sm)
})

test('malformed messages are refused naming the field', () => {
  const json = messageToLotusJson(message)
  assert.throws(() => messageFromLotusJson({ ...json, Value: '1.5' }), {
    code: 'ERR_MALFORMED_CHAIN_DATA',
    message: /Value/
  })
  assert.throws(() => messageFromLotusJson({ ...json, To: 'f1nope' }), {
    code: 'ERR_MALFORMED_CHAIN_DATA',
    message: /To/
  })
  assert.throws(() => decodeMessage(new Uint8Array([0x82, 0x00, 0x00])), { code: 'ERR_MALFORMED_CHAIN_DATA' })
  assert.throws(() => decodeMessage(new Uint8Array([0xff])), { code: 'ERR_MALFORMED_CHAIN_DATA', message: /not CBOR/ })
  assert.throws(() => encodeMessage({ ...message, nonce: -1n }), { code: 'ERR_MALFORMED_CHAIN_DATA', message: /nonce/ })
})
