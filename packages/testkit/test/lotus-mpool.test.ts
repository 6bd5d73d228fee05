import assert from 'node:assert/strict'
import test from 'node:test'
import {
  addressOfKey,
  BuiltinMethod,
  encodeInitExecParams,
  encodePaychConstructorParams,
  formatAddress,
  INIT_ACTOR,
  messageToLotusJson,
  parseFil,
  signedMessageCid,
  signedMessageToLotusJson,
  signMessage
} from '@autoretrieve/chain'
import { CID } from 'multiformats/cid'
import { startLotus } from '../src/lotus.ts'
import { call, FIXED_GAS, prepare, push, rpc, waitMsg } from './lotus-helpers.ts'

const ALICE = new Uint8Array(32).fill(21)
const BOB = new Uint8Array(32).fill(22)
const POOR = new Uint8Array(32).fill(23)
const FIL = parseFil('1 FIL')

test('MpoolPush refuses a bad signature, a used or skipped nonce and a sender without the funds, in Lotus words', async (t) => {
  const poor = formatAddress(addressOfKey(POOR))
  const lotus = await startLotus({ epochMs: 0, balances: { [poor]: FIL / 1000n } })
  t.after(() => lotus.close())
  const alice = formatAddress(addressOfKey(ALICE))
  const bob = addressOfKey(BOB)
  const refused = async (sm: Parameters<typeof signedMessageToLotusJson>[0]) =>
    (await rpc(lotus.url, 'Filecoin.MpoolPush', [signedMessageToLotusJson(sm)])).error?.message ?? 'accepted'

  const good = await prepare(lotus.url, ALICE, { to: bob, value: FIL })
  // Signed by Bob's key but claiming to be from Alice.
  const forged = signMessage(good.message, BOB)
  assert.match(await refused(forged), /^signature verification failed: .*signature did not match/)
  assert.match(await refused({ ...good, message: { ...good.message, value: 2n * FIL } }), /signature did not match/)
  assert.equal(await call(lotus.url, 'Filecoin.MpoolGetNonce', [alice]), 0, 'nothing was queued')

  assert.match(
    await refused(signMessage({ ...good.message, nonce: 1n }, ALICE)),
    /too big a gap from expected nonce \(Nonce: 1, nextNonce: 0\)/
  )
  const cid = await push(lotus.url, good)
  assert.equal(cid, signedMessageCid(good).toString())
  assert.match(await refused(good), /already in mpool/)
  assert.equal(await call(lotus.url, 'Filecoin.MpoolGetNonce', [alice]), 1)
  lotus.advance(2)
  assert.equal((await waitMsg(lotus.url, cid)).Receipt.ExitCode, 0)
  assert.equal(
    await refused(signMessage({ ...good.message, value: 1n }, ALICE)),
    'minimum expected nonce is 1, got 0: message nonce too low'
  )

  const tooMuch = await prepare(lotus.url, POOR, { to: bob, value: FIL, gas: FIXED_GAS })
  assert.match(
    await refused(tooMuch),
    /^failed to check balance: not enough funds \(required: 1\.000001011 FIL, balance: 0\.001 FIL\)/
  )
  const gasOnly = await prepare(lotus.url, POOR, {
    to: bob,
    value: 0n,
    gas: { ...FIXED_GAS, gasLimit: 9_000_000_000n, gasFeeCap: 200_000n }
  })
  assert.match(await refused(gasOnly), /not enough funds/)
  assert.equal(lotus.balanceOf(poor), FIL / 1000n)
})

test('a replacement with a higher premium takes the pending message place; StateWaitMsg follows it', async (t) => {
  const lotus = await startLotus({ epochMs: 0 })
  t.after(() => lotus.close())
  const first = await prepare(lotus.url, ALICE, { to: addressOfKey(BOB), value: 1n, gas: FIXED_GAS })
  const firstCid = await push(lotus.url, first)
  const cheap = signMessage({ ...first.message, value: 2n }, ALICE)
  assert.match(
    (await rpc(lotus.url, 'Filecoin.MpoolPush', [signedMessageToLotusJson(cheap)])).error?.message ?? '',
    /replace by fee has too low GasPremium/
  )
  const better = signMessage({ ...first.message, value: 2n, gasFeeCap: 200_000n, gasPremium: 110_001n }, ALICE)
  const betterCid = await push(lotus.url, better)
  lotus.advance(2)
  const lookup = await waitMsg(lotus.url, firstCid)
  assert.equal(lookup.Message['/'], betterCid)
  assert.equal(lotus.messages.length, 1)
  assert.equal(lotus.messages[0].value, 2n)
})

test('GasEstimateMessageGas fills the gas fields, and refuses a message that would fail on chain', async (t) => {
  const lotus = await startLotus({ epochMs: 0 })
  t.after(() => lotus.close())
  const draft = {
    version: 0 as const,
    to: addressOfKey(BOB),
    from: addressOfKey(ALICE),
    nonce: 0n,
    value: 1n,
    gasLimit: 0n,
    gasFeeCap: 0n,
    gasPremium: 0n,
    method: 0n,
    params: new Uint8Array(0)
  }
  const est = await call(lotus.url, 'Filecoin.GasEstimateMessageGas', [messageToLotusJson(draft), null, null])
  assert.ok(est.GasLimit > 0)
  assert.ok(BigInt(est.GasFeeCap) >= BigInt(est.GasPremium))
  assert.ok(BigInt(est.GasPremium) > 0n)
  // Exec of something that is not a payment channel (the account code) is forbidden.
  const codes = await call(lotus.url, 'Filecoin.StateActorCodeCIDs', [28])
  const params = encodeInitExecParams({
    codeCid: CID.parse(codes.account['/']),
    constructorParams: encodePaychConstructorParams({ from: addressOfKey(ALICE), to: addressOfKey(BOB) })
  })
  const exec = { ...draft, to: INIT_ACTOR, method: BuiltinMethod.InitExec, params }
  const refused = await rpc(lotus.url, 'Filecoin.GasEstimateMessageGas', [messageToLotusJson(exec), null, null])
  assert.match(refused.error?.message ?? '', /^estimating gas used: message execution failed: exit ErrForbidden\(18\)/)
})

test('the JSON-RPC edge: unknown methods, wrong parameter counts, bad parameters and oversized bodies are refused', async (t) => {
  const lotus = await startLotus({ epochMs: 0 })
  t.after(() => lotus.close())
  const unknown = await rpc(lotus.url, 'Filecoin.StateMarketDeals', [null])
  assert.equal(unknown.error?.code, -32601)
  const count = await rpc(lotus.url, 'Filecoin.WalletBalance', [])
  assert.equal(count.error?.code, -32602)
  assert.match(count.error?.message ?? '', /wrong param count \(method 'Filecoin.WalletBalance'\): 0 != 1/)
  const bad = await rpc(lotus.url, 'Filecoin.WalletBalance', ['f1notanaddress'])
  assert.equal(bad.error?.code, -32700)
  assert.match(
    bad.error?.message ?? '',
    /^unmarshaling params for 'Filecoin.WalletBalance' \(param: \*address.Address\)/
  )
  const badMsg = await rpc(lotus.url, 'Filecoin.MpoolPush', [{ Message: { To: 'f01' } }])
  assert.match(badMsg.error?.message ?? '', /\(param: \*types.SignedMessage\)/)
  const big = await fetch(`${lotus.url}/rpc/v1`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Filecoin.ChainHead', params: ['x'.repeat(2 << 20)] })
  })
  const bigBody = (await big.json()) as { error: { code: number; message: string } }
  assert.equal(bigBody.error.code, -32700)
  assert.match(bigBody.error.message, /request bigger than maximum/)
  const notRpc = await fetch(`${lotus.url}/rpc/v1`, { method: 'POST', body: '{"id":1}' })
  assert.equal(notRpc.status, 400)
})

test('chain queries: the head advances, network version, code CIDs, and StateWaitMsg on v0', async (t) => {
  const lotus = await startLotus({ epochMs: 0, startHeight: 50n })
  t.after(() => lotus.close())
  const head = await call(lotus.url, 'Filecoin.ChainHead', [])
  assert.equal(head.Height, 50)
  assert.equal(head.Cids.length, 1)
  lotus.advance(3)
  const next = await call(lotus.url, 'Filecoin.ChainHead', [])
  assert.equal(next.Height, 53)
  assert.notDeepEqual(next.Cids, head.Cids)
  assert.equal(await call(lotus.url, 'Filecoin.StateNetworkVersion', [null]), 28)
  const codes = await call(lotus.url, 'Filecoin.StateActorCodeCIDs', [28])
  for (const name of ['paymentchannel', 'init', 'account']) assert.match(codes[name]['/'], /^bafk2bzace/)
  const cid = await push(lotus.url, await prepare(lotus.url, ALICE, { to: addressOfKey(BOB), value: 5n }))
  lotus.advance()
  const v0 = await rpc(lotus.url, 'Filecoin.StateWaitMsg', [{ '/': cid }, 0], 'v0')
  assert.equal(v0.result.Receipt.ExitCode, 0)
  assert.equal(v0.result.Height, 54)
  assert.equal(v0.result.Receipt.Return, null)
})

test('StateWaitMsg for a message that never lands ends when the client gives up or the stand-in closes', async (t) => {
  const lotus = await startLotus({ epochMs: 0 })
  let closed = false
  t.after(() => (closed ? undefined : lotus.close()))
  const never = { '/': 'bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4' }
  const gaveUp = fetch(`${lotus.url}/rpc/v1`, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Filecoin.StateWaitMsg', params: [never, 1, -1, true] }),
    signal: AbortSignal.timeout(200)
  })
  await assert.rejects(gaveUp, { name: 'TimeoutError' })
  const pending = rpc(lotus.url, 'Filecoin.StateWaitMsg', [never, 1, -1, true]).catch((e: Error) => e)
  await new Promise((r) => setTimeout(r, 100))
  await lotus.close()
  closed = true
  const outcome = await pending
  assert.ok(outcome instanceof Error || outcome.error !== undefined)
})
