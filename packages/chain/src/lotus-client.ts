// A Lotus full node's JSON-RPC 2.0 over HTTP POST: the calls a paying client makes to create and
// fund payment channels, and to push and wait for its messages. Every answer is read under a byte
// bound and a deadline, then shape-checked; anything wrong is a LotusError naming the method.
import { parseApiInfo } from '@autoretrieve/routing'
import { CID } from 'multiformats/cid'
import { type Address, formatAddress, parseAddress } from './address.ts'
import {
  DEFAULT_LOTUS_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MESSAGE_CONFIDENCE,
  DEFAULT_WAIT_TIMEOUT_MS
} from './constants.ts'
import { LotusError, LotusResponseTooLargeError, MalformedChainDataError, MessageFailedError } from './errors.ts'
import { parseLotusJson, stringifyLotusJson } from './json.ts'
import { addressOfKey } from './keys.ts'
import {
  jsonAddress,
  jsonBigInt,
  jsonBytes,
  jsonInteger,
  jsonObject,
  type Message,
  messageFromLotusJson,
  messageToLotusJson,
  type SignedMessage,
  signedMessageCid,
  signedMessageToLotusJson,
  signMessage
} from './message.ts'
import { type SignedVoucher, signedVoucherToLotusJson } from './voucher.ts'

type Fetch = typeof globalThis.fetch
type AddressLike = Address | string
interface CallOptions {
  signal?: AbortSignal
}

export interface LotusClientInit {
  /** FULLNODE_API_INFO: `TOKEN:/ip4/…/tcp/1234/http`, a URL, or a multiaddr (see parseApiInfo). */
  apiInfo: string
  fetch?: Fetch
  /** Per call. @default 30000 (DEFAULT_LOTUS_TIMEOUT_MS) */
  timeoutMs?: number
  /** How long StateWaitMsg may block. @default 900000 (DEFAULT_WAIT_TIMEOUT_MS) */
  waitTimeoutMs?: number
  /** Epochs pushMessage waits for after inclusion. @default 5 (DEFAULT_MESSAGE_CONFIDENCE) */
  confidence?: number
  /** @default 2 MiB (DEFAULT_MAX_RESPONSE_BYTES) */
  maxResponseBytes?: number
}

/** What a message did on chain. */
export interface MessageReceipt {
  exitCode: number
  return: Uint8Array
  gasUsed: bigint
  height: bigint
}

/** A payment channel actor's state and balance (attoFIL; epochs as bigint). */
export interface PaychState {
  from: Address
  to: Address
  toSend: bigint
  settlingAt: bigint
  minSettleHeight: bigint
  balance: bigint
}

/** What pushMessage sends: the rest (from, nonce, gas) is filled in. */
export interface PartialMessage {
  to: AddressLike
  value: bigint
  method: bigint
  params: Uint8Array
}

export interface LotusClient {
  /** The next nonce for `address`, counting its messages waiting in Lotus' pool. */
  mpoolGetNonce(address: AddressLike, options?: CallOptions): Promise<bigint>
  /** The message with GasLimit, GasFeeCap and GasPremium estimated by Lotus. */
  gasEstimateMessageGas(message: Message, options?: CallOptions): Promise<Message>
  /** Pushes a signed message to the pool; returns its CID. */
  mpoolPush(signed: SignedMessage, options?: CallOptions): Promise<CID>
  /** Waits until the message is on chain `confidence` epochs deep and returns its receipt. */
  stateWaitMsg(cid: CID, confidence: number, options?: CallOptions): Promise<MessageReceipt>
  walletBalance(address: AddressLike, options?: CallOptions): Promise<bigint>
  stateNetworkVersion(options?: CallOptions): Promise<number>
  /** Built-in actor code CIDs by name (`paymentchannel`, `account`, …) at network version `nv`. */
  stateActorCodeCids(nv: number, options?: CallOptions): Promise<Record<string, CID>>
  stateReadPaych(address: AddressLike, options?: CallOptions): Promise<PaychState>
  chainHeadHeight(options?: CallOptions): Promise<bigint>
  /** Resolves when Lotus finds the voucher valid for the channel; throws LotusError with Lotus' reason otherwise. */
  paychVoucherCheckValid(channel: AddressLike, voucher: SignedVoucher, options?: CallOptions): Promise<void>
  /**
   * Stores the voucher in Lotus' paychmgr (the receiving side); answers what it adds over the best
   * voucher Lotus held for its lane. Lotus refuses one that adds less than `minDelta`.
   */
  paychVoucherAdd(
    channel: AddressLike,
    voucher: SignedVoucher,
    proof: Uint8Array | null,
    minDelta: bigint,
    options?: CallOptions
  ): Promise<bigint>
  /** The ID address (f0…) of the actor behind `address`. */
  stateLookupId(address: AddressLike, options?: CallOptions): Promise<Address>
  /**
   * Sends a message from the key's f1 address: nonce, gas estimate, sign, push, wait. Throws
   * MessageFailedError (ERR_MESSAGE_FAILED) when it lands with a non-zero exit code. Pushes from
   * one address are serialized so that concurrent calls do not take the same nonce.
   */
  pushMessage(
    privateKey: Uint8Array,
    partial: PartialMessage,
    signal?: AbortSignal
  ): Promise<MessageReceipt & { cid: CID }>
}

const toAddress = (a: AddressLike): Address => (typeof a === 'string' ? parseAddress(a) : a)
const addressText = (a: AddressLike): string =>
  typeof a === 'string' ? formatAddress(parseAddress(a)) : formatAddress(a)

function jsonCid(value: unknown, where: string): CID {
  const o = jsonObject(value, where)
  if (typeof o['/'] !== 'string') throw new MalformedChainDataError(`${where}: not a CID link`)
  try {
    return CID.parse(o['/'])
  } catch (cause) {
    throw new MalformedChainDataError(`${where}: not a CID`, { cause })
  }
}

/** Creates a client for the Lotus node FULLNODE_API_INFO names. Nothing is sent until a method is called. */
export function createLotusClient(init: LotusClientInit): LotusClient {
  const { url, token } = parseApiInfo(init.apiInfo)
  const fetchFn = init.fetch ?? globalThis.fetch
  const timeoutMs = init.timeoutMs ?? DEFAULT_LOTUS_TIMEOUT_MS
  const waitTimeoutMs = init.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS
  const confidence = init.confidence ?? DEFAULT_MESSAGE_CONFIDENCE
  const maxBytes = init.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  let nextId = 1
  // The tail of each sender's nonce -> push chain.
  const senders = new Map<string, Promise<unknown>>()

  async function readBounded(method: string, res: Response): Promise<string> {
    const chunks: Uint8Array[] = []
    let size = 0
    if (res.body !== null) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength
        if (size > maxBytes) throw new LotusResponseTooLargeError(method, maxBytes)
        chunks.push(chunk)
      }
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  /** One JSON-RPC call; `read` shape-checks the result. */
  async function call<T>(
    method: string,
    params: unknown[],
    read: (result: unknown) => T,
    options: CallOptions & { timeoutMs?: number } = {}
  ): Promise<T> {
    options.signal?.throwIfAborted()
    const limit = options.timeoutMs ?? timeoutMs
    const deadline = AbortSignal.timeout(limit)
    const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
    const id = nextId++
    let text: string
    let status: number
    try {
      const res = await fetchFn(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: stringifyLotusJson({ jsonrpc: '2.0', id, method, params }),
        signal
      })
      status = res.status
      text = await readBounded(method, res).finally(() => res.body?.cancel().catch(() => {}))
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason
      if (cause instanceof LotusResponseTooLargeError) throw cause
      const why = deadline.aborted ? `no answer in ${limit} ms` : (cause as Error).message
      throw new LotusError(method, `Lotus at ${url} unreachable: ${why}`, { cause })
    }
    let body: unknown
    try {
      body = parseLotusJson(text)
    } catch (cause) {
      throw new LotusError(method, `Lotus answered HTTP ${status} without JSON-RPC`, { cause })
    }
    const envelope = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
    if (envelope.error !== undefined && envelope.error !== null) {
      const error = envelope.error as { message?: unknown; code?: unknown }
      throw new LotusError(method, String(error.message ?? JSON.stringify(error)).slice(0, 2000))
    }
    if (status < 200 || status > 299) throw new LotusError(method, `Lotus answered HTTP ${status}`)
    if (!('result' in envelope)) throw new LotusError(method, 'the answer has neither result nor error')
    try {
      return read(envelope.result)
    } catch (cause) {
      throw new LotusError(method, `unexpected answer: ${(cause as Error).message}`, { cause })
    }
  }

  const readReceipt = (result: unknown): MessageReceipt => {
    const o = jsonObject(result, 'MsgLookup')
    const receipt = jsonObject(o.Receipt, 'Receipt')
    const exitCode = jsonInteger(receipt.ExitCode, 'Receipt ExitCode')
    return {
      exitCode: Number(exitCode),
      return: jsonBytes(receipt.Return, 'Receipt Return'),
      gasUsed: jsonInteger(receipt.GasUsed, 'Receipt GasUsed'),
      height: jsonInteger(o.Height, 'Height')
    }
  }

  const client: LotusClient = {
    mpoolGetNonce: async (address, options) =>
      call('Filecoin.MpoolGetNonce', [addressText(address)], (r) => jsonInteger(r, 'nonce'), options),

    gasEstimateMessageGas: async (message, options) =>
      call(
        'Filecoin.GasEstimateMessageGas',
        [messageToLotusJson(message), null, null],
        (r) => messageFromLotusJson(r, 'estimated message'),
        options
      ),

    mpoolPush: async (signed, options) =>
      call('Filecoin.MpoolPush', [signedMessageToLotusJson(signed)], (r) => jsonCid(r, 'message CID'), options),

    stateWaitMsg: async (cid, depth, options) =>
      // limit -1: look back without limit; allowReplaced: a message whose gas was bumped counts.
      call('Filecoin.StateWaitMsg', [{ '/': cid.toString() }, depth, -1, true], readReceipt, {
        ...options,
        timeoutMs: waitTimeoutMs
      }),

    walletBalance: async (address, options) =>
      call('Filecoin.WalletBalance', [addressText(address)], (r) => jsonBigInt(r, 'balance'), options),

    stateNetworkVersion: async (options) =>
      call('Filecoin.StateNetworkVersion', [null], (r) => Number(jsonInteger(r, 'network version')), options),

    stateActorCodeCids: async (nv, options) =>
      call(
        'Filecoin.StateActorCodeCIDs',
        [nv],
        (r) => {
          const o = jsonObject(r, 'actor code CIDs')
          const out: Record<string, CID> = {}
          for (const [name, link] of Object.entries(o)) out[name] = jsonCid(link, `actor code CID ${name}`)
          return out
        },
        options
      ),

    stateReadPaych: async (address, options) =>
      call(
        'Filecoin.StateReadState',
        [addressText(address), null],
        (r) => {
          const o = jsonObject(r, 'actor state')
          const state = jsonObject(o.State, 'State')
          return {
            from: jsonAddress(state.From, 'State From'),
            to: jsonAddress(state.To, 'State To'),
            toSend: jsonBigInt(state.ToSend, 'State ToSend'),
            settlingAt: jsonInteger(state.SettlingAt, 'State SettlingAt'),
            minSettleHeight: jsonInteger(state.MinSettleHeight, 'State MinSettleHeight'),
            balance: jsonBigInt(o.Balance, 'Balance')
          }
        },
        options
      ),

    chainHeadHeight: async (options) =>
      call('Filecoin.ChainHead', [], (r) => jsonInteger(jsonObject(r, 'tipset').Height, 'tipset Height'), options),

    paychVoucherCheckValid: async (channel, voucher, options) =>
      call(
        'Filecoin.PaychVoucherCheckValid',
        [addressText(channel), signedVoucherToLotusJson(voucher)],
        () => undefined,
        options
      ),

    paychVoucherAdd: async (channel, voucher, proof, minDelta, options) =>
      call(
        'Filecoin.PaychVoucherAdd',
        [
          addressText(channel),
          signedVoucherToLotusJson(voucher),
          proof === null ? null : Buffer.from(proof).toString('base64'),
          minDelta.toString()
        ],
        (r) => jsonBigInt(r, 'added amount'),
        options
      ),

    stateLookupId: async (address, options) =>
      call('Filecoin.StateLookupID', [addressText(address), null], (r) => jsonAddress(r, 'ID address'), options),

    async pushMessage(privateKey, partial, signal) {
      const from = addressOfKey(privateKey)
      const key = formatAddress(from)
      const options = { signal }
      // Nonce, estimate and push one message at a time per sender; waiting happens outside.
      const previous = senders.get(key) ?? Promise.resolve()
      const pushed = previous
        .catch(() => {})
        .then(async () => {
          const nonce = await client.mpoolGetNonce(from, options)
          const draft: Message = {
            version: 0,
            to: toAddress(partial.to),
            from,
            nonce,
            value: partial.value,
            gasLimit: 0n,
            gasFeeCap: 0n,
            gasPremium: 0n,
            method: partial.method,
            params: partial.params
          }
          const estimate = await client.gasEstimateMessageGas(draft, options)
          // Only the gas is taken from Lotus' answer: what is signed is what we meant to send.
          const signed = signMessage(
            { ...draft, gasLimit: estimate.gasLimit, gasFeeCap: estimate.gasFeeCap, gasPremium: estimate.gasPremium },
            privateKey
          )
          const cid = await client.mpoolPush(signed, options)
          const local = signedMessageCid(signed)
          if (!cid.equals(local))
            throw new LotusError('Filecoin.MpoolPush', `Lotus named the message ${cid}, but it is ${local}`)
          return { cid, signed }
        })
      senders.set(key, pushed)
      pushed
        .finally(() => {
          if (senders.get(key) === pushed) senders.delete(key)
        })
        .catch(() => {})
      const { cid, signed } = await pushed
      const receipt = await client.stateWaitMsg(cid, confidence, options)
      if (receipt.exitCode !== 0) {
        throw new MessageFailedError({
          cid: cid.toString(),
          to: formatAddress(signed.message.to),
          method: signed.message.method,
          exitCode: receipt.exitCode
        })
      }
      return { cid, ...receipt }
    }
  }
  return client
}
