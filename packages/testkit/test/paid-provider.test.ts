import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type Address,
  addressFromBytes,
  addressOfKey,
  BuiltinMethod,
  createLotusClient,
  decodeExecReturn,
  encodeInitExecParams,
  encodePaychConstructorParams,
  formatAddress,
  generatePrivateKey,
  INIT_ACTOR,
  laneVoucher,
  parseAddress,
  parseFil,
  type SignedVoucher,
  signVoucher
} from '@autoretrieve/chain'
import {
  createFilecoinRetrievalTransport,
  createPaidRetrievalProposal,
  createTransferPullRequest,
  createVoucherRequest,
  DealStatus,
  EXTENSION_DATA_TRANSFER,
  type FilecoinRetrievalTransport,
  findTransferMessage,
  interpretTransferMessage,
  type QueryResponse,
  queryProvider,
  type TransferMessage,
  type TransferOutcome,
  transferMessageToNode
} from '@autoretrieve/filecoin'
import { EXPLORE_ALL_RECURSIVELY, RequestFailedError, ResponseStatus } from '@autoretrieve/graphsync'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { createUnixfsFixture, type UnixfsFixture } from '../src/fixtures.ts'
import { type LotusStandIn, startLotus } from '../src/lotus.ts'
import { type ProviderStandIn, startProvider } from '../src/provider.ts'

// The paid provider stand-in driven by a real libp2p client with the real codecs: a query, a
// priced proposal, vouchers signed on a payment channel the Lotus stand-in created. It pauses at
// each data limit asking for exactly what it sent, resumes only when Lotus accepts a voucher that
// covers it, and cancels the transfer on a bad one.

const PRICE = 2n
const INTERVAL = 64n * 1024n
const INCREASE = 32n * 1024n
const UNSEAL = 1_000n

let lotus: LotusStandIn
let fixture: UnixfsFixture
let dagBytes: bigint
let client: Awaited<ReturnType<typeof createLibp2p>>
let transport: FilecoinRetrievalTransport
const clientKey = generatePrivateKey()
const strangerKey = generatePrivateKey()
const providers: ProviderStandIn[] = []
let nextLane = 0n
let nextId = BigInt(Date.now()) * 1_000_000n

before(async () => {
  lotus = await startLotus({ epochMs: 10 })
  fixture = await createUnixfsFixture({ size: 512 * 1024, chunkSize: 16 * 1024, seed: 1616 })
  dagBytes = fixture.blocks.reduce((n, b) => n + BigInt(b.bytes.byteLength), 0n)
  client = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  transport = createFilecoinRetrievalTransport({ libp2p: client as never })
})

after(async () => {
  await transport.stop()
  await client.stop()
  for (const p of providers) await p.close()
  await lotus.close()
})

async function paidProvider(ask: { unsealPrice?: bigint; paymentTimeoutMs?: number } = {}) {
  const p = await startProvider({
    cars: [fixture.car],
    protocols: ['graphsync'],
    ask: {
      pricePerByte: PRICE,
      unsealPrice: ask.unsealPrice ?? 0n,
      paymentInterval: INTERVAL,
      paymentIntervalIncrease: INCREASE
    },
    lotus: lotus.apiInfo,
    paymentTimeoutMs: ask.paymentTimeoutMs ?? 20_000
  })
  providers.push(p)
  return p
}

/** A payment channel from the client's wallet to `to`, created through Lotus as a node would. */
async function openChannel(to: string, amount = parseFil('0.001 FIL')): Promise<Address> {
  const lotusClient = createLotusClient({ apiInfo: lotus.apiInfo, confidence: 1 })
  const codes = await lotusClient.stateActorCodeCids(await lotusClient.stateNetworkVersion())
  const params = encodeInitExecParams({
    codeCid: codes.paymentchannel,
    constructorParams: encodePaychConstructorParams({ from: addressOfKey(clientKey), to: parseAddress(to) })
  })
  const receipt = await lotusClient.pushMessage(clientKey, {
    to: INIT_ACTOR,
    value: amount,
    method: BuiltinMethod.InitExec,
    params
  })
  assert.equal(receipt.exitCode, 0)
  return decodeExecReturn(receipt.return).robustAddress
}

function voucher(channel: Address, lane: bigint, nonce: bigint, amount: bigint, key = clientKey): SignedVoucher {
  return signVoucher(laneVoucher({ channel, lane, nonce, amount }), key)
}

async function ask(p: ProviderStandIn): Promise<QueryResponse> {
  return queryProvider(
    (protocol, options) => client.dialProtocol(multiaddr(p.multiaddrs[0]), protocol, options),
    fixture.root
  )
}

interface Demand {
  status: number
  owed: bigint
  /** Bytes of verified blocks when the provider stopped sending (all it sent before asking). */
  verified: bigint
}

/** What the payer does about a demand: the voucher's amount and nonce, or a voucher of its own. */
type PayWith = (demand: Demand, paid: bigint, nonce: bigint) => SignedVoucher | 'ignore'

/**
 * Retrieves the fixture from `p`, paying each demand once the verified bytes justify it (as a
 * client must), with the voucher `payWith` gives. Waits, for each demand, to see that the provider
 * sends nothing more until paid.
 */
async function retrieve(p: ProviderStandIn, channel: Address, payWith?: PayWith) {
  const terms = await ask(p)
  const lane = nextLane++
  const dealId = ++nextId
  const transferId = ++nextId
  const peer = peerIdFromString(p.peerId)
  const proposal = createPaidRetrievalProposal({
    payloadCid: fixture.root,
    id: dealId,
    selector: EXPLORE_ALL_RECURSIVELY,
    ask: terms
  })
  const request = createTransferPullRequest({
    root: fixture.root,
    selector: EXPLORE_ALL_RECURSIVELY,
    voucher: proposal,
    transferId
  })
  const outcomes: TransferOutcome[] = []
  const demands: Demand[] = []
  const sentAfterDemand: bigint[] = []
  let verified = 0n
  let paid = 0n
  let nonce = 0n
  let payments = Promise.resolve()

  const justified = () => verified * terms.minPricePerByte + terms.unsealPrice
  const pay = async (status: number, owed: bigint) => {
    // Never ahead of the data: wait (bounded) until the verified bytes are worth what is asked.
    for (let i = 0; i < 500 && justified() < paid + owed; i++) await sleep(10)
    const demand = { status, owed, verified }
    demands.push(demand)
    await sleep(100) // unpaid, the provider must send nothing more
    sentAfterDemand.push(verified - demand.verified)
    nonce++
    const sv = payWith?.(demand, paid, nonce) ?? voucher(channel, lane, nonce, paid + owed)
    if (sv === 'ignore') return
    paid = sv.amount
    await transport.send(
      peer,
      createVoucherRequest({ transferId, payment: { id: dealId, paymentChannel: channel, paymentVoucher: sv } })
    )
  }
  const onMessage = (message: TransferMessage) => {
    const outcome = interpretTransferMessage(message)
    outcomes.push(outcome)
    const status = outcome.dealResponse?.status ?? -1
    if (outcome.kind === 'paused-for-payment') payments = payments.then(() => pay(status, outcome.paymentOwed ?? 0n))
  }
  const unroute = transport.route(p.peerId, transferId, onMessage)
  let result: { status: number } | undefined
  let error: Error | undefined
  try {
    const blocks = transport.request(peer, fixture.root, EXPLORE_ALL_RECURSIVELY, {
      extensions: { [EXTENSION_DATA_TRANSFER]: transferMessageToNode(request) },
      signal: AbortSignal.timeout(30_000),
      onResponse: (rsp) => {
        const message = findTransferMessage(rsp.extensions)
        if (message !== undefined) onMessage(message)
      }
    })
    for (;;) {
      const next = await blocks.next()
      if (next.done === true) {
        result = next.value
        break
      }
      verified += BigInt(next.value.bytes.byteLength)
    }
  } catch (err) {
    error = err as Error
  }
  await payments
  // The Complete (or a refusal) comes on a stream of its own, possibly after the last block.
  for (let i = 0; i < 100 && !outcomes.some((o) => o.kind === 'completed' || o.kind === 'errored'); i++) await sleep(20)
  unroute()
  return { terms, lane, result, error, outcomes, demands, sentAfterDemand, verified, paid }
}

/** The data limits go-fil-markets sets: the interval, then each next one longer by the increase. */
function limits(count: number): bigint[] {
  const out: bigint[] = []
  let limit = 0n
  let size = INTERVAL
  for (let i = 0; i < count; i++) {
    limit += size
    size += INCREASE
    out.push(limit)
  }
  return out
}

test('the query answer carries the price, the intervals and the provider wallet to pay', async () => {
  const p = await paidProvider({ unsealPrice: UNSEAL })
  const terms = await ask(p)
  assert.equal(terms.minPricePerByte, PRICE)
  assert.equal(terms.unsealPrice, UNSEAL)
  assert.equal(terms.maxPaymentInterval, INTERVAL)
  assert.equal(terms.maxPaymentIntervalIncrease, INCREASE)
  assert.equal(terms.size, dagBytes)
  assert.equal(formatAddress(addressFromBytes(terms.paymentAddress)), p.paymentAddress)
  assert.match(p.paymentAddress ?? '', /^f1/)
})

test('paid as it goes, it pauses at each data limit for exactly what it sent and completes after the last payment', async () => {
  const p = await paidProvider()
  const channel = await openChannel(p.paymentAddress!)
  const addsBefore = lotus.callsOf('Filecoin.PaychVoucherAdd')
  const r = await retrieve(p, channel)
  assert.equal(r.error, undefined, r.error?.message)
  assert.equal(r.result?.status, ResponseStatus.RequestCompletedFull)
  assert.equal(r.verified, dagBytes, 'the whole DAG arrived')
  const statuses = r.demands.map((d) => d.status)
  assert.ok(statuses.length >= 3, `several payments: ${statuses}`)
  assert.ok(
    statuses.slice(0, -1).every((s) => s === DealStatus.FundsNeeded),
    `FundsNeeded at each limit: ${statuses}`
  )
  assert.equal(statuses.at(-1), DealStatus.FundsNeededLastPayment)
  const expected = limits(statuses.length)
  let paidFor = 0n
  for (const [i, d] of r.demands.entries()) {
    assert.equal(d.owed, (d.verified - paidFor) * PRICE, `demand ${i}: exactly the bytes sent since the last payment`)
    if (d.status === DealStatus.FundsNeeded) {
      assert.ok(d.verified <= expected[i], `demand ${i}: ${d.verified} bytes sent, limit ${expected[i]}`)
      assert.ok(d.verified > (i === 0 ? 0n : expected[i - 1]), `demand ${i}: it used the interval`)
    }
    paidFor = d.verified
  }
  assert.deepEqual(
    r.sentAfterDemand,
    r.demands.map(() => 0n),
    'nothing was sent while unpaid'
  )
  assert.ok(
    r.outcomes.some((o) => o.kind === 'completed'),
    'Completed after the last payment'
  )
  assert.equal(p.stats.vouchersReceived, r.demands.length)
  assert.equal(p.stats.vouchersRejected, 0)
  assert.equal(p.stats.amountPaid, dagBytes * PRICE)
  assert.equal(p.stats.lastNonceByLane[`${formatAddress(channel)}/${r.lane}`], BigInt(r.demands.length))
  assert.equal(
    lotus.callsOf('Filecoin.PaychVoucherAdd') - addsBefore,
    r.demands.length,
    'each voucher added through Lotus'
  )
})

test('with an unseal price, the unseal payment is asked for first, before any block', async () => {
  const p = await paidProvider({ unsealPrice: UNSEAL })
  const channel = await openChannel(p.paymentAddress!)
  const r = await retrieve(p, channel)
  assert.equal(r.result?.status, ResponseStatus.RequestCompletedFull, r.error?.message)
  assert.deepEqual(r.demands[0], { status: DealStatus.FundsNeededUnseal, owed: UNSEAL, verified: 0n })
  assert.equal(p.stats.amountPaid, UNSEAL + dagBytes * PRICE)
  assert.equal(r.paid, UNSEAL + dagBytes * PRICE, 'the last voucher carries the cumulative amount')
})

/** A refused voucher: the client hears why, the transfer is cancelled, no byte past the limit. */
async function refused(
  p: ProviderStandIn,
  r: Awaited<ReturnType<typeof retrieve>>,
  reason: RegExp,
  paidVouchers: number
) {
  assert.ok(r.error instanceof RequestFailedError, `the request failed: ${r.error}`)
  assert.equal((r.error as RequestFailedError).status, ResponseStatus.RequestCancelled)
  const errored = r.outcomes.find((o) => o.kind === 'errored')
  assert.ok(errored !== undefined, 'an Errored deal response came')
  assert.match(errored.message, reason)
  assert.equal(p.stats.vouchersRejected, 1)
  assert.equal(p.stats.vouchersReceived, paidVouchers)
  const last = r.demands.at(-1)!
  assert.equal(r.verified, last.verified, 'nothing was sent after the refused payment')
  assert.ok(r.verified < dagBytes)
}

test('a voucher signed by another key is refused and the transfer cancelled', async () => {
  const p = await paidProvider()
  const channel = await openChannel(p.paymentAddress!)
  const r = await retrieve(p, channel, (d, paid, nonce) =>
    voucher(channel, nextLane + 100n, nonce, paid + d.owed, strangerKey)
  )
  await refused(p, r, /signature/, 0)
  assert.equal(r.demands.length, 1)
})

test('a voucher reusing a lane nonce is refused', async () => {
  const p = await paidProvider()
  const channel = await openChannel(p.paymentAddress!)
  const lane = nextLane + 200n
  const r = await retrieve(p, channel, (d, paid, nonce) =>
    voucher(channel, lane, nonce === 2n ? 1n : nonce, paid + d.owed)
  )
  await refused(p, r, /nonce too low/, 1)
  assert.equal(r.demands.length, 2)
})

test('a voucher short of everything owed is refused', async () => {
  const p = await paidProvider()
  const channel = await openChannel(p.paymentAddress!)
  const lane = nextLane + 300n
  const r = await retrieve(p, channel, (d, paid, nonce) => voucher(channel, lane, nonce, paid + d.owed - 1n))
  await refused(p, r, /too low/, 0)
})

test('a voucher on a channel that pays someone else is refused', async () => {
  const p = await paidProvider()
  const elsewhere = await openChannel(formatAddress(addressOfKey(strangerKey)))
  const lane = nextLane + 400n
  const r = await retrieve(p, elsewhere, (d, paid, nonce) => voucher(elsewhere, lane, nonce, paid + d.owed))
  await refused(p, r, /not this provider/, 0)
})

test('a client that never pays gets nothing past the first limit and is cancelled after the payment timeout', async () => {
  const p = await paidProvider({ paymentTimeoutMs: 500 })
  const channel = await openChannel(p.paymentAddress!)
  const r = await retrieve(p, channel, () => 'ignore')
  assert.ok(r.error instanceof RequestFailedError, `the request failed: ${r.error}`)
  assert.equal(r.demands.length, 1)
  assert.ok(r.verified <= INTERVAL, `${r.verified} bytes, limit ${INTERVAL}`)
  assert.match(r.outcomes.find((o) => o.kind === 'errored')?.message ?? '', /no payment/)
})

test('a proposal under the ask is rejected in go-fil-markets words', async () => {
  const p = await paidProvider()
  const terms = await ask(p)
  const transferId = ++nextId
  const proposal = createPaidRetrievalProposal({
    payloadCid: fixture.root,
    id: ++nextId,
    selector: EXPLORE_ALL_RECURSIVELY,
    ask: { ...terms, minPricePerByte: PRICE - 1n }
  })
  const request = createTransferPullRequest({
    root: fixture.root,
    selector: EXPLORE_ALL_RECURSIVELY,
    voucher: proposal,
    transferId
  })
  const blocks = transport.request(peerIdFromString(p.peerId), fixture.root, EXPLORE_ALL_RECURSIVELY, {
    extensions: { [EXTENSION_DATA_TRANSFER]: transferMessageToNode(request) }
  })
  await assert.rejects(
    async () => {
      for await (const _ of blocks) assert.fail('no block for a rejected deal')
    },
    (e: Error) => {
      const message = e instanceof RequestFailedError ? findTransferMessage(e.extensions) : undefined
      const outcome = message === undefined ? undefined : interpretTransferMessage(message)
      return outcome?.kind === 'rejected' && outcome.message === 'Price per byte too low'
    }
  )
})
