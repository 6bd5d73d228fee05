import assert from 'node:assert/strict'
import test from 'node:test'
import {
  type Address,
  actorAddress,
  addressOfKey,
  addressToBytes,
  BuiltinMethod,
  decodeExecReturn,
  encodeInitExecParams,
  encodePaychConstructorParams,
  encodeUpdateChannelStateParams,
  formatAddress,
  INIT_ACTOR,
  laneVoucher,
  parseAddress,
  parseFil,
  type SignedVoucher,
  signedVoucherToLotusJson,
  signVoucher
} from '@autoretrieve/chain'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { type LotusStandIn, startLotus } from '../src/lotus.ts'
import { call, FIXED_GAS, rpc, sendAndWait } from './lotus-helpers.ts'

// Fixed keys, so addresses (and the f2 derived from them) are the same every run.
const CLIENT = new Uint8Array(32).fill(7)
const PROVIDER = new Uint8Array(32).fill(9)
const STRANGER = new Uint8Array(32).fill(11)
const FIL = parseFil('1 FIL')
const SETTLE_DELAY = 5n

async function lotusFor(t: test.TestContext): Promise<LotusStandIn> {
  const lotus = await startLotus({ epochMs: 10, settleDelayEpochs: SETTLE_DELAY })
  t.after(() => lotus.close())
  return lotus
}

/** The gas `key`'s messages have cost so far. */
const gasOf = (lotus: LotusStandIn, key: Uint8Array) =>
  lotus.messages.filter((m) => m.from === formatAddress(addressOfKey(key))).reduce((s, m) => s + m.gasCost, 0n)

async function createChannel(lotus: LotusStandIn, amount: bigint) {
  const codes = await call(lotus.url, 'Filecoin.StateActorCodeCIDs', [
    await call(lotus.url, 'Filecoin.StateNetworkVersion', [null])
  ])
  const params = encodeInitExecParams({
    codeCid: CID.parse(codes.paymentchannel['/']),
    constructorParams: encodePaychConstructorParams({ from: addressOfKey(CLIENT), to: addressOfKey(PROVIDER) })
  })
  return sendAndWait(lotus.url, CLIENT, { to: INIT_ACTOR, value: amount, method: BuiltinMethod.InitExec, params })
}

const voucher = (ch: Address, lane: bigint, nonce: bigint, amount: bigint, key = CLIENT): SignedVoucher =>
  signVoucher(laneVoucher({ channel: ch, lane, nonce, amount }), key)

// Gas is fixed rather than estimated: Lotus' estimate refuses a message that would fail.
const redeem = (lotus: LotusStandIn, ch: Address, sv: SignedVoucher, key = PROVIDER) =>
  sendAndWait(lotus.url, key, {
    to: ch,
    method: BuiltinMethod.PaychUpdateChannelState,
    params: encodeUpdateChannelStateParams({ sv, secret: new Uint8Array(0) }),
    gas: FIXED_GAS
  })

test('a plain send moves the value to a fresh address, which starts funded; the sender also pays gas', async (t) => {
  const lotus = await lotusFor(t)
  const to = formatAddress(addressOfKey(PROVIDER))
  const lookup = await sendAndWait(lotus.url, CLIENT, { to: addressOfKey(PROVIDER), value: FIL })
  assert.equal(lookup.Receipt.ExitCode, 0)
  assert.ok(lookup.Receipt.GasUsed > 0)
  assert.equal(BigInt(await call(lotus.url, 'Filecoin.WalletBalance', [to])), 101n * FIL)
  const gas = gasOf(lotus, CLIENT)
  assert.ok(gas > 0n)
  assert.equal(lotus.balanceOf(formatAddress(addressOfKey(CLIENT))), 99n * FIL - gas)
  assert.equal(await call(lotus.url, 'Filecoin.MpoolGetNonce', [formatAddress(addressOfKey(CLIENT))]), 1)
})

test('a payment channel: create, redeem vouchers (refusing bad ones), settle, collect; every attoFIL accounted for', async (t) => {
  const lotus = await lotusFor(t)
  const client = formatAddress(addressOfKey(CLIENT))
  const provider = formatAddress(addressOfKey(PROVIDER))

  const created = await createChannel(lotus, FIL / 2n)
  assert.equal(created.Receipt.ExitCode, 0)
  const ret = decodeExecReturn(new Uint8Array(Buffer.from(created.Receipt.Return ?? '', 'base64')))
  const ch = ret.robustAddress
  // ref-fvm's next_actor_address: f2 of CBOR(From) ++ nonce (u64 BE) ++ actors created so far (u64 BE).
  const seed = Buffer.concat([dagCbor.encode(addressToBytes(addressOfKey(CLIENT))), Buffer.alloc(8), Buffer.alloc(8)])
  assert.equal(formatAddress(ch), formatAddress(actorAddress(seed)))
  assert.ok(Number(formatAddress(ret.idAddress).slice(2)) >= 1000)
  assert.deepEqual(created.ReturnDec, { IDAddress: formatAddress(ret.idAddress), RobustAddress: formatAddress(ch) })

  const state = await call(lotus.url, 'Filecoin.StateReadState', [formatAddress(ch), null])
  assert.equal(state.Balance, (FIL / 2n).toString())
  assert.equal(state.State.ToSend, '0')
  assert.equal(state.State.SettlingAt, 0)
  assert.match(state.State.From, /^f0\d+$/)
  assert.equal(state.State.From, await call(lotus.url, 'Filecoin.StateLookupID', [client, null]))
  assert.equal(state.State.To, await call(lotus.url, 'Filecoin.StateLookupID', [provider, null]))
  assert.ok(state.State.LaneStates['/'])
  assert.equal(lotus.channel(formatAddress(ch))?.from, client)

  // A plain send to the channel adds funds, as Lotus' paych manager does.
  assert.equal((await sendAndWait(lotus.url, CLIENT, { to: ch, value: FIL / 10n })).Receipt.ExitCode, 0)
  assert.equal(lotus.channel(formatAddress(ret.idAddress))?.balance, (FIL * 6n) / 10n)

  // A voucher signed by the client, redeemed by the provider.
  assert.equal((await redeem(lotus, ch, voucher(ch, 0n, 1n, FIL / 10n))).Receipt.ExitCode, 0)
  assert.equal(lotus.channel(formatAddress(ch))?.toSend, FIL / 10n)
  // Signed by someone else: the actor refuses it (USR_ILLEGAL_ARGUMENT).
  assert.equal((await redeem(lotus, ch, voucher(ch, 0n, 2n, FIL / 5n, STRANGER))).Receipt.ExitCode, 16)
  // The same nonce again, even for more: refused.
  assert.equal((await redeem(lotus, ch, voucher(ch, 0n, 1n, FIL / 5n))).Receipt.ExitCode, 16)
  assert.match(lotus.messages.at(-1)?.error ?? '', /outdated nonce/)
  // More than the channel holds (0.6 FIL): refused.
  assert.equal((await redeem(lotus, ch, voucher(ch, 0n, 2n, FIL))).Receipt.ExitCode, 16)
  assert.match(lotus.messages.at(-1)?.error ?? '', /not enough funds in channel/)
  // Only From or To may call it.
  assert.equal((await redeem(lotus, ch, voucher(ch, 0n, 2n, FIL / 5n), STRANGER)).Receipt.ExitCode, 18)
  // A later voucher on a second lane adds to what the provider may collect.
  assert.equal((await redeem(lotus, ch, voucher(ch, 1n, 1n, FIL / 10n))).Receipt.ExitCode, 0)
  assert.equal(lotus.channel(formatAddress(ch))?.toSend, FIL / 5n)

  const collect = () => sendAndWait(lotus.url, PROVIDER, { to: ch, method: BuiltinMethod.PaychCollect, gas: FIXED_GAS })
  assert.equal((await collect()).Receipt.ExitCode, 18, 'collect before settling is forbidden')
  const strangerSettles = await sendAndWait(lotus.url, STRANGER, {
    to: ch,
    method: BuiltinMethod.PaychSettle,
    gas: FIXED_GAS
  })
  assert.equal(strangerSettles.Receipt.ExitCode, 18, 'only From or To may settle')
  const settled = await sendAndWait(lotus.url, CLIENT, { to: ch, method: BuiltinMethod.PaychSettle })
  assert.equal(settled.Receipt.ExitCode, 0)
  const settlingAt = lotus.channel(formatAddress(ch))?.settlingAt
  assert.equal(settlingAt, BigInt(settled.Height) + SETTLE_DELAY)
  lotus.advance(Number(SETTLE_DELAY))
  assert.equal(
    (await redeem(lotus, ch, voucher(ch, 0n, 3n, FIL / 4n))).Receipt.ExitCode,
    32,
    'no vouchers after settling'
  )
  assert.equal((await collect()).Receipt.ExitCode, 0)
  assert.equal(lotus.channel(formatAddress(ch)), undefined)
  const gone = await rpc(lotus.url, 'Filecoin.StateReadState', [formatAddress(ch), null])
  assert.match(gone.error?.message ?? '', /actor not found/)

  // The provider got the 0.2 FIL it redeemed, the client the 0.4 FIL left; each paid its own gas.
  assert.equal(lotus.balanceOf(provider), 100n * FIL + FIL / 5n - gasOf(lotus, PROVIDER))
  assert.equal(lotus.balanceOf(client), 100n * FIL - FIL / 5n - gasOf(lotus, CLIENT))
})

test("the provider's node checks vouchers against chain and the vouchers it already took: a reused nonce is refused", async (t) => {
  const lotus = await lotusFor(t)
  const created = await createChannel(lotus, FIL)
  const ch = parseAddress(created.ReturnDec?.RobustAddress ?? '')
  const check = (sv: SignedVoucher) =>
    rpc(lotus.url, 'Filecoin.PaychVoucherCheckValid', [formatAddress(ch), signedVoucherToLotusJson(sv)])
  const add = (sv: SignedVoucher, minDelta: bigint) =>
    rpc(lotus.url, 'Filecoin.PaychVoucherAdd', [
      formatAddress(ch),
      signedVoucherToLotusJson(sv),
      null,
      minDelta.toString()
    ])

  const first = voucher(ch, 0n, 1n, FIL / 10n)
  assert.equal((await check(first)).result, null)
  assert.equal((await add(first, FIL / 10n)).result, (FIL / 10n).toString())
  assert.equal((await add(first, 0n)).result, '0', 'the same voucher again is ignored')
  // Nothing is on chain yet, but the node remembers: the same nonce is too low now.
  assert.equal((await check(voucher(ch, 0n, 1n, FIL / 5n))).error?.message, 'nonce too low')
  assert.equal((await add(voucher(ch, 0n, 1n, FIL / 5n), 0n)).error?.message, 'nonce too low')
  assert.match(
    (await add(voucher(ch, 0n, 2n, FIL / 10n + 1n), 10n)).error?.message ?? '',
    /supplied token amount too low/
  )
  assert.match((await check(voucher(ch, 0n, 2n, FIL / 5n, STRANGER))).error?.message ?? '', /signature did not match/)
  assert.match(
    (await check(voucher(ch, 1n, 1n, FIL))).error?.message ?? '',
    /not enough funds in channel to cover voucher - shortfall: 100000000000000000/
  )
  assert.match(
    (await check({ ...voucher(ch, 0n, 2n, FIL / 5n), signature: null })).error?.message ?? '',
    /signature is nil/
  )
  const other = voucher(addressOfKey(STRANGER), 0n, 2n, FIL / 5n)
  assert.match((await check(other)).error?.message ?? '', /ChannelAddr doesn't match/)
  assert.equal((await add(voucher(ch, 0n, 2n, FIL / 5n), FIL / 10n)).result, (FIL / 10n).toString())
  assert.equal(lotus.callsOf('Filecoin.PaychVoucherAdd'), 5)
})

test("builtin-actors' rules: From may redeem a voucher signed by To; a voucher may merge lanes; timelocks and secrets are enforced", async (t) => {
  const lotus = await lotusFor(t)
  const created = await createChannel(lotus, FIL)
  const ch = parseAddress(created.ReturnDec?.RobustAddress ?? '')
  // The signer must be the party that does not send the message: here To signs, From sends.
  assert.equal((await redeem(lotus, ch, voucher(ch, 0n, 1n, FIL / 10n, PROVIDER), CLIENT)).Receipt.ExitCode, 0)
  assert.equal((await redeem(lotus, ch, voucher(ch, 1n, 1n, FIL / 10n))).Receipt.ExitCode, 0)
  assert.equal(lotus.channel(formatAddress(ch))?.toSend, FIL / 5n)
  // Lane 1 merges lane 0 (0.1 FIL redeemed there): 0.5 FIL on lane 1 leaves ToSend at 0.5 FIL.
  const merged = signVoucher(
    { ...voucher(ch, 1n, 2n, FIL / 2n), merges: [{ lane: 0n, nonce: 2n }], signature: null },
    CLIENT
  )
  assert.equal((await redeem(lotus, ch, merged)).Receipt.ExitCode, 0)
  assert.equal(lotus.channel(formatAddress(ch))?.toSend, FIL / 2n)
  assert.equal(lotus.channel(formatAddress(ch))?.lanes.get(0n)?.nonce, 2n)
  // Not yet valid, expired, and a secret that does not hash to SecretHash: all refused.
  const future = signVoucher({ ...voucher(ch, 2n, 1n, 1n), timeLockMin: lotus.height + 1000n, signature: null }, CLIENT)
  assert.equal((await redeem(lotus, ch, future)).Receipt.ExitCode, 16)
  const expired = signVoucher({ ...voucher(ch, 2n, 1n, 1n), timeLockMax: 1n, signature: null }, CLIENT)
  assert.equal((await redeem(lotus, ch, expired)).Receipt.ExitCode, 16)
  const locked = signVoucher(
    { ...voucher(ch, 2n, 1n, 1n), secretHash: new Uint8Array(32).fill(1), signature: null },
    CLIENT
  )
  assert.equal((await redeem(lotus, ch, locked)).Receipt.ExitCode, 16)
  assert.match(lotus.messages.at(-1)?.error ?? '', /incorrect secret/)
})
