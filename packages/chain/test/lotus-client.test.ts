import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import {
  actorAddress,
  addressOfKey,
  BuiltinMethod,
  createLotusClient,
  decodeExecReturn,
  encodeExecReturn,
  formatAddress,
  INIT_ACTOR,
  idAddress,
  messageCid,
  messageFromLotusJson,
  messageToLotusJson,
  parseAddress,
  parseLotusJson,
  type SignedVoucher,
  signedMessageCid,
  signedMessageFromLotusJson,
  signedVoucherFromLotusJson,
  signVoucher,
  stringifyLotusJson,
  verifySignature,
  verifyVoucher
} from '../src/index.ts'
import { KEY_A, KEY_B } from './helpers.ts'

// A small JSON-RPC server on loopback that answers the way Lotus does for each method the
// client calls (the full Lotus stand-in lives in @autoretrieve/testkit).
type Handler = (params: unknown[]) => unknown
const handlers = new Map<string, Handler>()
const seen: { method: string; auth: string | undefined }[] = []
const nonces = new Map<string, bigint>()
const receipts = new Map<string, { ExitCode: number; Return: string | null; GasUsed: number; EventsRoot: null }>()
let hold: ServerResponse[] = []
let server: Server
let apiInfo: string

class RpcFailure extends Error {}

async function serve(req: IncomingMessage, res: ServerResponse) {
  let size = 0
  const chunks: Buffer[] = []
  for await (const c of req) {
    size += c.length
    if (size > 1 << 20) return res.destroy()
    chunks.push(c)
  }
  const body = parseLotusJson(Buffer.concat(chunks).toString()) as { id: number; method: string; params: unknown[] }
  seen.push({ method: body.method, auth: req.headers.authorization })
  const handler = handlers.get(body.method)
  res.setHeader('Content-Type', 'application/json')
  if (handler === undefined) {
    res.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: body.id,
        error: { code: -32601, message: `method '${body.method}' not found` }
      })
    )
    return
  }
  try {
    const result = handler(body.params)
    if (result === HOLD) {
      hold.push(res)
      return
    }
    if (result instanceof Buffer) return res.end(result)
    res.end(stringifyLotusJson({ jsonrpc: '2.0', id: body.id, result }))
  } catch (err) {
    res.end(JSON.stringify({ jsonrpc: '2.0', id: body.id, error: { code: 1, message: (err as Error).message } }))
  }
}
const HOLD = Symbol('hold')

before(async () => {
  server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  apiInfo = `sekrit:/ip4/127.0.0.1/tcp/${port}/http`

  handlers.set('Filecoin.MpoolGetNonce', ([addr]) => Number(nonces.get(addr as string) ?? 0n))
  handlers.set('Filecoin.GasEstimateMessageGas', ([msg]) => {
    const m = messageFromLotusJson(msg)
    return messageToLotusJson({ ...m, gasLimit: 2_000_000n, gasFeeCap: 150_000n, gasPremium: 100_000n })
  })
  handlers.set('Filecoin.MpoolPush', ([smJson]) => {
    const sm = signedMessageFromLotusJson(smJson)
    const from = formatAddress(sm.message.from)
    if (!verifySignature(sm.signature, messageCid(sm.message).bytes, sm.message.from))
      throw new RpcFailure('bad signature')
    const expected = nonces.get(from) ?? 0n
    if (sm.message.nonce !== expected) throw new RpcFailure(`nonce ${sm.message.nonce} is not the expected ${expected}`)
    nonces.set(from, expected + 1n)
    const cid = signedMessageCid(sm).toString()
    const ok = sm.message.method !== 99n
    receipts.set(cid, {
      ExitCode: ok ? 0 : 16,
      Return: sm.message.method === BuiltinMethod.InitExec ? Buffer.from(execReturn).toString('base64') : null,
      GasUsed: 1_234_567,
      EventsRoot: null
    })
    return { '/': cid }
  })
  handlers.set('Filecoin.StateWaitMsg', ([cid, confidence, limit, allowReplaced]) => {
    assert.equal(typeof confidence, 'number')
    assert.equal(limit, -1)
    assert.equal(allowReplaced, true)
    const key = (cid as { '/': string })['/']
    const receipt = receipts.get(key)
    if (receipt === undefined) throw new RpcFailure('message not found')
    return { Message: cid, Receipt: receipt, ReturnDec: {}, TipSet: [{ '/': key }], Height: 4242 }
  })
  handlers.set('Filecoin.WalletBalance', () => '100000000000000000000')
  handlers.set('Filecoin.StateNetworkVersion', () => 25)
  handlers.set('Filecoin.StateActorCodeCIDs', ([nv]) => {
    assert.equal(nv, 25)
    return { paymentchannel: { '/': CODE }, account: { '/': CODE } }
  })
  handlers.set('Filecoin.StateReadState', ([addr]) => {
    if (addr !== formatAddress(channel)) throw new RpcFailure('actor not found')
    return {
      Balance: '20000000000000000',
      Code: { '/': CODE },
      State: {
        From: 'f01001',
        To: 'f01002',
        ToSend: '5000',
        SettlingAt: 0,
        MinSettleHeight: 0,
        LaneStates: { '/': CODE }
      }
    }
  })
  handlers.set('Filecoin.ChainHead', () => ({ Cids: [{ '/': CODE }], Blocks: [], Height: 3_000_000 }))
  handlers.set('Filecoin.PaychVoucherCheckValid', ([ch, json]) => {
    const sv = signedVoucherFromLotusJson(json)
    if (ch !== formatAddress(sv.channelAddr)) throw new RpcFailure('voucher ChannelAddr doesnt match channel address')
    if (!verifyVoucher(sv, addressOfKey(KEY_A))) throw new RpcFailure('voucher signature invalid')
    return null
  })
})

after(async () => {
  for (const res of hold) res.destroy()
  hold = []
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

const CODE = 'bafk2bzaceblot4pemhfgttho2w2mgj4bgfeg4fwgfyrq3cmwbecbnlnbhnz6s'
const channel = actorAddress(new TextEncoder().encode('lotus client test channel'))
const execReturn = encodeExecReturn({ idAddress: idAddress(1003n), robustAddress: channel })

test('pushMessage: nonce, gas, sign, push, wait; concurrent pushes from one key take consecutive nonces', async () => {
  const client = createLotusClient({ apiInfo, confidence: 1 })
  const from = formatAddress(addressOfKey(KEY_B))
  const send = { to: idAddress(1002n), value: 1000n, method: BuiltinMethod.Send, params: new Uint8Array(0) }
  const [a, b] = await Promise.all([client.pushMessage(KEY_B, send), client.pushMessage(KEY_B, send)])
  assert.equal(a.exitCode, 0)
  assert.equal(b.exitCode, 0)
  assert.notEqual(a.cid.toString(), b.cid.toString())
  assert.equal(nonces.get(from), 2n)
  assert.equal(a.gasUsed, 1_234_567n)
  assert.equal(a.height, 4242n)
  // The bearer token from the API info goes with every call.
  assert.ok(seen.every((s) => s.auth === 'Bearer sekrit'))

  const exec = await client.pushMessage(KEY_B, {
    to: formatAddress(INIT_ACTOR),
    value: 10n ** 16n,
    method: BuiltinMethod.InitExec,
    params: new Uint8Array([1])
  })
  assert.deepEqual(decodeExecReturn(exec.return), { idAddress: idAddress(1003n), robustAddress: channel })
})

test('a message that fails on chain is MessageFailedError with its exit code and method', async () => {
  const client = createLotusClient({ apiInfo, confidence: 1 })
  await assert.rejects(
    client.pushMessage(KEY_A, { to: channel, value: 0n, method: 99n, params: new Uint8Array(0) }),
    (err: Error & { code?: string; exitCode?: number }) =>
      err.code === 'ERR_MESSAGE_FAILED' &&
      err.exitCode === 16 &&
      /method 99/.test(err.message) &&
      /exit code 16/.test(err.message)
  )
})

test('queries read Lotus answers into chain types', async () => {
  const client = createLotusClient({ apiInfo })
  assert.equal(await client.walletBalance(addressOfKey(KEY_A)), 100n * 10n ** 18n)
  assert.equal(await client.stateNetworkVersion(), 25)
  const codes = await client.stateActorCodeCids(25)
  assert.equal(codes.paymentchannel.toString(), CODE)
  assert.equal(await client.chainHeadHeight(), 3_000_000n)
  const state = await client.stateReadPaych(formatAddress(channel))
  assert.deepEqual(state, {
    from: parseAddress('f01001'),
    to: parseAddress('f01002'),
    toSend: 5000n,
    settlingAt: 0n,
    minSettleHeight: 0n,
    balance: 20_000_000_000_000_000n
  })
})

test('paychVoucherCheckValid passes the voucher as Lotus JSON and surfaces Lotus’s refusal', async () => {
  const client = createLotusClient({ apiInfo })
  const voucher: SignedVoucher = {
    channelAddr: channel,
    timeLockMin: 0n,
    timeLockMax: 0n,
    secretHash: new Uint8Array(0),
    extra: null,
    lane: (1n << 64n) - 1n, // exact past 2^53 on the wire
    nonce: 1n,
    amount: 1000n,
    minSettleHeight: 0n,
    merges: [],
    signature: null
  }
  await client.paychVoucherCheckValid(channel, signVoucher(voucher, KEY_A))
  await assert.rejects(client.paychVoucherCheckValid(channel, signVoucher(voucher, KEY_B)), {
    name: 'LotusError',
    code: 'ERR_LOTUS',
    method: 'Filecoin.PaychVoucherCheckValid',
    message: /voucher signature invalid/
  })
})

test('Lotus errors, odd answers and oversized answers are typed errors naming the method', async () => {
  const client = createLotusClient({ apiInfo, maxResponseBytes: 4096 })
  await assert.rejects(client.stateReadPaych(actorAddress(new Uint8Array([1]))), {
    code: 'ERR_LOTUS',
    message: /Filecoin\.StateReadState: actor not found/
  })
  handlers.set('Filecoin.WalletBalance', () => 12.5)
  await assert.rejects(client.walletBalance(addressOfKey(KEY_A)), {
    code: 'ERR_LOTUS',
    message: /WalletBalance: unexpected answer: balance: not a decimal integer/
  })
  handlers.set('Filecoin.WalletBalance', () => 'x'.repeat(10_000))
  await assert.rejects(client.walletBalance(addressOfKey(KEY_A)), {
    code: 'ERR_LOTUS_RESPONSE_TOO_LARGE',
    method: 'Filecoin.WalletBalance'
  })
  handlers.set('Filecoin.WalletBalance', () => Buffer.from('<html>bad gateway</html>'))
  await assert.rejects(client.walletBalance(addressOfKey(KEY_A)), { code: 'ERR_LOTUS', message: /without JSON-RPC/ })
  handlers.set('Filecoin.WalletBalance', () => '100000000000000000000')
  await assert.rejects(client.walletBalance('f1nope'), { code: 'ERR_INVALID_ADDRESS' })
})

test('a call that gets no answer ends at the deadline or when the caller aborts', async () => {
  handlers.set('Filecoin.ChainHead', () => HOLD)
  const client = createLotusClient({ apiInfo, timeoutMs: 200 })
  await assert.rejects(client.chainHeadHeight(), { code: 'ERR_LOTUS', message: /no answer in 200 ms/ })
  const patient = createLotusClient({ apiInfo, timeoutMs: 60_000 })
  const controller = new AbortController()
  const pending = patient.chainHeadHeight({ signal: controller.signal })
  setTimeout(() => controller.abort(), 50)
  await assert.rejects(pending, { name: 'AbortError' })
})

test('an unreachable Lotus is a LotusError', async () => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const { port } = closed.address() as AddressInfo
  await new Promise((resolve) => closed.close(resolve))
  const client = createLotusClient({ apiInfo: `/ip4/127.0.0.1/tcp/${port}/http` })
  await assert.rejects(client.stateNetworkVersion(), { code: 'ERR_LOTUS', message: /unreachable/ })
})
