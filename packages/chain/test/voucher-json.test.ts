import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  actorAddress,
  idAddress,
  MalformedChainDataError,
  type SignedVoucher,
  signedVoucherFromLotusJson,
  signedVoucherToLotusJson,
  signVoucher
} from '../src/index.ts'
import { KEY_A } from './helpers.ts'

const voucher: SignedVoucher = {
  channelAddr: actorAddress(new Uint8Array([9, 9, 9])),
  timeLockMin: 0n,
  timeLockMax: 0n,
  secretHash: new Uint8Array(0),
  extra: null,
  lane: 3n,
  nonce: 1n,
  amount: 123_456n,
  minSettleHeight: 0n,
  merges: [],
  signature: null
}

test("a voucher in Lotus' JSON has Go's field names, the amount as a string and base64 bytes, and reads back", () => {
  const signed = signVoucher(voucher, KEY_A)
  const json = signedVoucherToLotusJson(signed)
  assert.equal(json.Amount, '123456')
  assert.equal(json.Lane, 3)
  assert.equal(json.SecretHash, null)
  assert.equal(json.Merges, null)
  assert.equal(json.Signature?.Type, 1)
  assert.equal(Buffer.from(json.Signature?.Data ?? '', 'base64').length, 65)
  assert.deepEqual(signedVoucherFromLotusJson(JSON.parse(JSON.stringify(json))), signed)
  const full: SignedVoucher = {
    ...signed,
    secretHash: new Uint8Array([1, 2]),
    extra: { actor: idAddress(99n), method: 7n, data: new Uint8Array([3]) },
    merges: [{ lane: 1n, nonce: 2n }]
  }
  assert.deepEqual(signedVoucherFromLotusJson(JSON.parse(JSON.stringify(signedVoucherToLotusJson(full)))), full)
})

test('a malformed voucher JSON names the field', () => {
  const json = signedVoucherToLotusJson(voucher)
  assert.throws(
    () => signedVoucherFromLotusJson({ ...json, Amount: 'lots' }),
    (e: Error) => e instanceof MalformedChainDataError && /Amount/.test(e.message)
  )
  assert.throws(
    () => signedVoucherFromLotusJson({ ...json, Lane: -1 }),
    (e: Error) => e instanceof MalformedChainDataError && /Lane/.test(e.message)
  )
  assert.throws(() => signedVoucherFromLotusJson({ ...json, ChannelAddr: 'f9xyz' }), MalformedChainDataError)
})
