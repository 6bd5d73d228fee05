import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import {
  actorAddress,
  addressOfKey,
  decodeExecReturn,
  decodeInitExecParams,
  decodePaychConstructorParams,
  decodeSignedVoucher,
  decodeUpdateChannelStateParams,
  encodeExecReturn,
  encodeInitExecParams,
  encodePaychConstructorParams,
  encodeSignedVoucher,
  encodeUpdateChannelStateParams,
  idAddress,
  type SignedVoucher,
  signedVoucherFromNode,
  signedVoucherToNode,
  signVoucher,
  verifyVoucher,
  voucherSigningBytes
} from '../src/index.ts'
import { KEY_A, KEY_B } from './helpers.ts'

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

test('a signed voucher verifies against From and survives CBOR and the IPLD node form', () => {
  const signed = signVoucher(voucher, KEY_A)
  assert.ok(verifyVoucher(signed, addressOfKey(KEY_A)))
  assert.equal(verifyVoucher(signed, addressOfKey(KEY_B)), false)
  assert.equal(verifyVoucher(voucher, addressOfKey(KEY_A)), false)
  assert.equal(verifyVoucher({ ...signed, amount: signed.amount + 1n }, addressOfKey(KEY_A)), false)
  assert.deepEqual(decodeSignedVoucher(encodeSignedVoucher(signed)), signed)
  assert.deepEqual(signedVoucherFromNode(signedVoucherToNode(signed)), signed)
  // The signing bytes are the encoding with a null signature, whatever signature the voucher carries.
  assert.deepEqual(voucherSigningBytes(signed), encodeSignedVoucher(voucher))
})

test('extra and merges round-trip', () => {
  const full: SignedVoucher = {
    ...voucher,
    timeLockMin: -5n,
    timeLockMax: 100n,
    secretHash: new Uint8Array([1, 2]),
    extra: { actor: idAddress(99n), method: 7n, data: new Uint8Array([3]) },
    merges: [{ lane: 1n, nonce: 2n }],
    minSettleHeight: 10n
  }
  const signed = signVoucher(full, KEY_B)
  assert.deepEqual(decodeSignedVoucher(encodeSignedVoucher(signed)), signed)
})

test('actor parameters and returns round-trip', () => {
  const codeCid = CID.parse('bafk2bzaceblot4pemhfgttho2w2mgj4bgfeg4fwgfyrq3cmwbecbnlnbhnz6s')
  const ctor = encodePaychConstructorParams({ from: addressOfKey(KEY_A), to: idAddress(1000n) })
  assert.deepEqual(decodePaychConstructorParams(ctor), { from: addressOfKey(KEY_A), to: idAddress(1000n) })
  const exec = encodeInitExecParams({ codeCid, constructorParams: ctor })
  const back = decodeInitExecParams(exec)
  assert.equal(back.codeCid.toString(), codeCid.toString())
  assert.deepEqual(back.constructorParams, ctor)
  const ret = { idAddress: idAddress(1234n), robustAddress: actorAddress(new Uint8Array([1])) }
  assert.deepEqual(decodeExecReturn(encodeExecReturn(ret)), ret)
  const update = { sv: signVoucher(voucher, KEY_A), secret: new Uint8Array(0) }
  assert.deepEqual(decodeUpdateChannelStateParams(encodeUpdateChannelStateParams(update)), update)
})

test('a malformed voucher is refused naming the field', () => {
  const node = signedVoucherToNode(voucher)
  node[7] = new Uint8Array([5, 1])
  assert.throws(() => signedVoucherFromNode(node), { code: 'ERR_MALFORMED_CHAIN_DATA', message: /Amount/ })
  assert.throws(() => signedVoucherFromNode(node.slice(0, 10)), { code: 'ERR_MALFORMED_CHAIN_DATA', message: /11/ })
})
