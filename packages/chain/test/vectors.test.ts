// Byte-for-byte agreement with the Go libraries Lotus uses. The vectors come from
// packages/testkit/go/chain-vectors (see its README for how to regenerate them).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  addressFromBytes,
  addressOfKey,
  addressToBytes,
  decodeExecReturn,
  decodeInitExecParams,
  decodeKeyInfoHex,
  decodeMessage,
  decodePaychConstructorParams,
  decodeSignedMessage,
  decodeSignedVoucher,
  decodeUpdateChannelStateParams,
  encodeExecReturn,
  encodeInitExecParams,
  encodeKeyInfoHex,
  encodeMessage,
  encodePaychConstructorParams,
  encodeSignedMessage,
  encodeSignedVoucher,
  encodeUpdateChannelStateParams,
  formatAddress,
  keyInfoFromJson,
  keyInfoToJson,
  messageCid,
  messageFromLotusJson,
  messageToLotusJson,
  parseAddress,
  publicKeyOf,
  type SignedVoucher,
  sign,
  signatureFromBytes,
  signatureToBytes,
  signedMessageCid,
  signedMessageFromLotusJson,
  signedMessageToLotusJson,
  signedVoucherFromLotusJson,
  signedVoucherToLotusJson,
  signMessage,
  signVoucher,
  stringifyLotusJson,
  verifySignature,
  verifyVoucher,
  voucherSigningBytes
} from '../src/index.ts'
import { fromHex, loadVectors, toHex } from './helpers.ts'

test('addresses: Go strings and bytes in both directions', () => {
  const v = loadVectors('addresses.json')
  assert.ok(v.valid.length >= 15)
  for (const a of v.valid) {
    const parsed = parseAddress(a.string)
    assert.equal(parsed.protocol, a.protocol, a.string)
    assert.equal(toHex(addressToBytes(parsed)), a.bytes, a.string)
    assert.deepEqual(parseAddress(a.testnet), parsed, a.testnet)
    const fromBytes = addressFromBytes(fromHex(a.bytes))
    assert.equal(formatAddress(fromBytes), a.string)
    assert.equal(formatAddress(fromBytes, 't'), a.testnet)
  }
  for (const a of v.accepted_strings) assert.equal(toHex(addressToBytes(parseAddress(a.input))), a.bytes, a.input)
  for (const bad of v.invalid_strings) {
    assert.throws(() => parseAddress(bad.input), { code: 'ERR_INVALID_ADDRESS' }, `${bad.input} (Go: ${bad.error})`)
  }
  for (const bad of v.invalid_bytes) {
    assert.throws(
      () => addressFromBytes(fromHex(bad.input)),
      { code: 'ERR_INVALID_ADDRESS' },
      `${bad.input} (Go: ${bad.error})`
    )
  }
})

test('keys: public keys, f1 addresses and KeyInfo export match Lotus', () => {
  const v = loadVectors('keys.json')
  for (const k of v.keys) {
    const pk = fromHex(k.private_key)
    assert.equal(toHex(publicKeyOf(pk)), k.public_key)
    assert.equal(formatAddress(addressOfKey(pk)), k.address)
    assert.equal(formatAddress(addressOfKey(pk), 't'), k.testnet_address)
    const ki = { type: 'secp256k1' as const, privateKey: pk }
    assert.equal(keyInfoToJson(ki), k.key_info_json)
    assert.equal(encodeKeyInfoHex(ki), k.key_info_hex)
    assert.deepEqual(keyInfoFromJson(k.key_info_json), ki)
    assert.deepEqual(decodeKeyInfoHex(k.key_info_hex), ki)
  }
})

test('signatures: RFC 6979 signatures equal Go byte for byte; Lotus-signed ones verify', () => {
  const v = loadVectors('keys.json')
  assert.ok(v.signatures.length >= 12)
  for (const s of v.signatures) {
    const pk = fromHex(s.private_key)
    const data = fromHex(s.data)
    const sig = sign(pk, data)
    assert.equal(toHex(sig.data), s.signature, `${s.address} over ${s.data.slice(0, 16)}`)
    assert.equal(toHex(signatureToBytes(sig)), s.signature_bytes)
    assert.deepEqual(signatureFromBytes(fromHex(s.signature_bytes)), sig)
    const address = parseAddress(s.address)
    assert.ok(verifySignature(sig, data, address))
    assert.ok(verifySignature({ type: 1, data: fromHex(s.hedged_signature) }, data, address), 'go-crypto Sign')
    assert.ok(verifySignature({ type: 1, data: fromHex(s.high_s_signature) }, data, address), 'high s')
  }
})

test('messages: CBOR, CIDs, signatures and Lotus JSON match Lotus', () => {
  const v = loadVectors('messages.json')
  assert.ok(v.messages.length >= 5)
  for (const m of v.messages) {
    const message = messageFromLotusJson(m.message)
    assert.equal(toHex(encodeMessage(message)), m.cbor, m.name)
    assert.deepEqual(decodeMessage(fromHex(m.cbor)), message, m.name)
    assert.equal(messageCid(message).toString(), m.cid, m.name)
    assert.deepEqual(messageToLotusJson(message), m.message, m.name)
    const signed = signMessage(message, fromHex(m.private_key))
    assert.equal(toHex(signed.signature.data), m.signature, m.name)
    assert.equal(toHex(encodeSignedMessage(signed)), m.signed_cbor, m.name)
    assert.deepEqual(decodeSignedMessage(fromHex(m.signed_cbor)), signed, m.name)
    assert.equal(signedMessageCid(signed).toString(), m.signed_cid, m.name)
    assert.deepEqual(JSON.parse(JSON.stringify(signedMessageToLotusJson(signed))), m.signed_lotus_json, m.name)
    assert.deepEqual(signedMessageFromLotusJson(m.signed_lotus_json), signed, m.name)
  }
})

// biome-ignore lint/suspicious/noExplicitAny: vector files are untyped JSON
function voucherFromVector(j: Record<string, any>): SignedVoucher {
  return {
    channelAddr: parseAddress(j.channel_addr),
    timeLockMin: BigInt(j.time_lock_min),
    timeLockMax: BigInt(j.time_lock_max),
    secretHash: fromHex(j.secret_hash),
    extra:
      j.extra === null
        ? null
        : { actor: parseAddress(j.extra.actor), method: BigInt(j.extra.method), data: fromHex(j.extra.data) },
    lane: BigInt(j.lane),
    nonce: BigInt(j.nonce),
    amount: BigInt(j.amount),
    minSettleHeight: BigInt(j.min_settle_height),
    merges: j.merges.map((m: Record<string, string>) => ({ lane: BigInt(m.lane), nonce: BigInt(m.nonce) })),
    signature: null
  }
}

test('payment channel: actor params, exec return, vouchers and update params match go-state-types', () => {
  const v = loadVectors('paych.json')
  for (const c of v.constructor_params) {
    const p = { from: parseAddress(c.from), to: parseAddress(c.to) }
    assert.equal(toHex(encodePaychConstructorParams(p)), c.cbor)
    assert.deepEqual(decodePaychConstructorParams(fromHex(c.cbor)), p)
  }
  for (const e of v.init_exec_params) {
    const decoded = decodeInitExecParams(fromHex(e.cbor))
    assert.equal(decoded.codeCid.toString(), e.code_cid)
    assert.equal(toHex(decoded.constructorParams), e.constructor_params)
    assert.equal(toHex(encodeInitExecParams(decoded)), e.cbor)
  }
  for (const r of v.exec_return) {
    const ret = { idAddress: parseAddress(r.id_address), robustAddress: parseAddress(r.robust_address) }
    assert.equal(toHex(encodeExecReturn(ret)), r.cbor)
    assert.deepEqual(decodeExecReturn(fromHex(r.cbor)), ret)
  }
  assert.ok(v.vouchers.length >= 3)
  for (const [i, x] of v.vouchers.entries()) {
    const sv = voucherFromVector(x.voucher)
    assert.equal(toHex(voucherSigningBytes(sv)), x.signing_bytes, `voucher ${i}`)
    assert.deepEqual(decodeSignedVoucher(fromHex(x.signing_bytes)), sv, `voucher ${i}`)
    const signed = signVoucher(sv, fromHex(x.private_key))
    assert.equal(toHex(signed.signature?.data ?? new Uint8Array()), x.signature, `voucher ${i}`)
    assert.equal(toHex(encodeSignedVoucher(signed)), x.signed_cbor, `voucher ${i}`)
    assert.deepEqual(decodeSignedVoucher(fromHex(x.signed_cbor)), signed, `voucher ${i}`)
    const signer = parseAddress(x.signer)
    assert.ok(verifyVoucher(signed, signer))
    const hedged = decodeSignedVoucher(fromHex(x.hedged_signed_cbor))
    assert.ok(verifyVoucher(hedged, signer), `voucher ${i} signed by go-crypto`)
    const update = { sv: signed, secret: fromHex(x.update_secret) }
    assert.equal(toHex(encodeUpdateChannelStateParams(update)), x.update_channel_state_params, `voucher ${i}`)
    assert.deepEqual(decodeUpdateChannelStateParams(fromHex(x.update_channel_state_params)), update)
    assert.equal(stringifyLotusJson(signedVoucherToLotusJson(signed)), stringifyLotusJson(x.signed_lotus_json))
    assert.deepEqual(signedVoucherFromLotusJson(x.signed_lotus_json), signed, `voucher ${i} from Lotus JSON`)
  }
})
