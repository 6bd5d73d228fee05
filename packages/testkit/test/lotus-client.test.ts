// The stand-in driven by @autoretrieve/chain's own Lotus client, as the node will drive it.
import assert from 'node:assert/strict'
import test from 'node:test'
import {
  addressOfKey,
  BuiltinMethod,
  createLotusClient,
  decodeExecReturn,
  encodeInitExecParams,
  encodePaychConstructorParams,
  encodeUpdateChannelStateParams,
  formatAddress,
  INIT_ACTOR,
  laneVoucher,
  parseFil,
  signVoucher
} from '@autoretrieve/chain'
import { startLotus } from '../src/lotus.ts'

const CLIENT = new Uint8Array(32).fill(31)
const PROVIDER = new Uint8Array(32).fill(32)
const FIL = parseFil('1 FIL')

test("chain's Lotus client creates a channel, reads it, and has a voucher checked; a failing message is refused at the gas estimate", async (t) => {
  const lotus = await startLotus({ epochMs: 10, token: 'jwt' })
  t.after(() => lotus.close())
  const client = createLotusClient({ apiInfo: lotus.apiInfo, confidence: 1 })
  assert.equal(await client.walletBalance(addressOfKey(CLIENT)), 100n * FIL)
  const nv = await client.stateNetworkVersion()
  const codes = await client.stateActorCodeCids(nv)
  const created = await client.pushMessage(CLIENT, {
    to: INIT_ACTOR,
    value: FIL / 4n,
    method: BuiltinMethod.InitExec,
    params: encodeInitExecParams({
      codeCid: codes.paymentchannel,
      constructorParams: encodePaychConstructorParams({ from: addressOfKey(CLIENT), to: addressOfKey(PROVIDER) })
    })
  })
  assert.equal(created.exitCode, 0)
  const ch = decodeExecReturn(created.return).robustAddress
  const state = await client.stateReadPaych(ch)
  assert.equal(state.balance, FIL / 4n)
  assert.equal(state.toSend, 0n)
  assert.equal(state.settlingAt, 0n)
  assert.equal(lotus.channel(formatAddress(ch))?.to, formatAddress(addressOfKey(PROVIDER)))

  const sv = signVoucher(laneVoucher({ channel: ch, lane: 0n, nonce: 1n, amount: FIL / 10n }), CLIENT)
  await client.paychVoucherCheckValid(ch, sv)
  await assert.rejects(client.paychVoucherCheckValid(ch, { ...sv, amount: FIL }), { code: 'ERR_LOTUS' })
  const redeemed = await client.pushMessage(PROVIDER, {
    to: ch,
    value: 0n,
    method: BuiltinMethod.PaychUpdateChannelState,
    params: encodeUpdateChannelStateParams({ sv, secret: new Uint8Array(0) })
  })
  assert.equal(redeemed.exitCode, 0)
  assert.equal((await client.stateReadPaych(ch)).toSend, FIL / 10n)
  // The same voucher again would fail on chain, so Lotus' gas estimate refuses it.
  await assert.rejects(
    client.pushMessage(PROVIDER, {
      to: ch,
      value: 0n,
      method: BuiltinMethod.PaychUpdateChannelState,
      params: encodeUpdateChannelStateParams({ sv, secret: new Uint8Array(0) })
    }),
    (e: Error & { code?: string }) => e.code === 'ERR_LOTUS' && /outdated nonce/.test(e.message)
  )
  assert.ok((await client.chainHeadHeight()) > 1000n)
})
