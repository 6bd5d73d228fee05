import { type Address, formatAddress, parseAddress, parseFil } from '@autoretrieve/chain'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { Chain, type ExecutedMessage } from './lotus-chain.ts'
import { DEFAULT_SETTLE_DELAY_EPOCHS, MAX_REQUEST_BYTES } from './lotus-constants.ts'
import { RpcError } from './lotus-errors.ts'
import { Params } from './lotus-json.ts'
import { type LotusMiner, METHODS } from './lotus-rpc.ts'
import type { Actor, LaneState } from './lotus-state.ts'
import { serveLoopback } from './serve-http.ts'

export type { LotusMiner } from './lotus-rpc.ts'

export interface LotusInit {
  /** 0 (default) = any free port. */
  port?: number
  /** Miner ID address (f0…) -> what StateMinerInfo answers. */
  miners?: Record<string, LotusMiner>
  /** When set, requests must carry `Authorization: Bearer <token>` (401 otherwise, like Lotus). */
  token?: string
  /** attoFIL every key address (f1/f3) starts with. @default 100 FIL */
  initialBalance?: bigint
  /** Starting balances (attoFIL) of particular key addresses, overriding initialBalance. */
  balances?: Record<string, bigint>
  /** The chain advances one epoch (executing what was pushed) every epochMs; 0 = only advance(). @default 100 */
  epochMs?: number
  /** Epochs from a paych Settle to when Collect may run. @default 1440 (builtin-actors SETTLE_DELAY, 12 h) */
  settleDelayEpochs?: bigint
  /** Height of the chain when it starts. @default 1000 */
  startHeight?: bigint
}

/** A payment channel actor's state, parties as key addresses (f1…). */
export interface LotusChannel {
  /** The robust (f2) address. */
  address: string
  idAddress: string
  from: string
  to: string
  balance: bigint
  toSend: bigint
  settlingAt: bigint
  minSettleHeight: bigint
  lanes: ReadonlyMap<bigint, LaneState>
}

/** An executed message: what it asked, and its receipt. */
export interface LotusMessageRecord {
  cid: string
  from: string
  to: string
  nonce: bigint
  value: bigint
  method: bigint
  height: bigint
  exitCode: number
  return: Uint8Array
  gasUsed: bigint
  /** attoFIL the sender paid for gas. */
  gasCost: bigint
  /** Why it failed, when exitCode is not 0. */
  error?: string
}

export interface LotusStandIn {
  /** Base URL of the HTTP server (JSON-RPC at `${url}/rpc/v1`). */
  url: string
  /** FULLNODE_API_INFO for it: `TOKEN:/ip4/127.0.0.1/tcp/<port>/http`, or the multiaddr alone. */
  apiInfo: string
  /** StateMinerInfo calls answered so far (including errors). */
  readonly calls: number
  /** Calls of one JSON-RPC method so far (e.g. `Filecoin.PaychVoucherAdd`), answered or refused. */
  callsOf(method: string): number
  /** The chain's height. */
  readonly height: bigint
  /** Moves the chain on (executing pushed messages at the first new epoch). */
  advance(epochs?: number): void
  /** The balance of any address (a key address never seen has its starting balance). */
  balanceOf(address: string): bigint
  /** A payment channel by its f2 or f0 address; undefined if there is none (or it was collected). */
  channel(address: string): LotusChannel | undefined
  /** Every executed message, oldest first. */
  readonly messages: readonly LotusMessageRecord[]
  close(): Promise<void>
}

type RpcRequest = { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown }

const DEFAULT_INITIAL_BALANCE = parseFil('100 FIL')
const DEFAULT_EPOCH_MS = 100
const DEFAULT_START_HEIGHT = 1000n

/**
 * A Lotus full node's JSON-RPC 2.0 on loopback, for paid retrievals: `POST /rpc/v1` (and /rpc/v0)
 * with balances (every address starts funded), an mpool that checks signatures, nonces and funds
 * as Lotus does, messages executing at the next epoch (send, init Exec of payment channels, paych
 * UpdateChannelState/Settle/Collect with builtin-actors' rules), StateWaitMsg receipts, the
 * provider-side voucher checks (PaychVoucherCheckValid/Add) and StateMinerInfo for miner peers.
 */
export async function startLotus(init: LotusInit = {}): Promise<LotusStandIn> {
  const keyBalances = new Map<string, bigint>()
  for (const [a, v] of Object.entries(init.balances ?? {})) keyBalances.set(formatAddress(parseAddress(a)), v)
  const initialBalance = init.initialBalance ?? DEFAULT_INITIAL_BALANCE
  const chain = new Chain({
    startHeight: init.startHeight ?? DEFAULT_START_HEIGHT,
    settleDelayEpochs: init.settleDelayEpochs ?? DEFAULT_SETTLE_DELAY_EPOCHS,
    initialBalance: (a: Address) => keyBalances.get(formatAddress(a)) ?? initialBalance
  })
  const genesisTime = Math.floor(Date.now() / 1000) - Number(chain.height) * 30
  const closing = new AbortController()
  const counts = new Map<string, number>()
  const app = new Hono()
  // go-jsonrpc: protocol errors are HTTP 500 (400 for an invalid request); a method's error is 200.
  const rpcError = (id: unknown, code: number, message: string) =>
    Response.json(
      { jsonrpc: '2.0', id: id ?? null, error: { code, message } },
      { status: code === 1 ? 200 : code === -32600 ? 400 : 500 }
    )

  app.post(
    '/rpc/:version{v[01]}',
    bodyLimit({
      maxSize: MAX_REQUEST_BYTES,
      onError: () => rpcError(null, -32700, `reading request: request bigger than maximum ${MAX_REQUEST_BYTES} allowed`)
    }),
    async (c) => {
      if (init.token !== undefined && c.req.header('Authorization') !== `Bearer ${init.token}`) {
        return c.text('missing permission to invoke', 401)
      }
      let req: RpcRequest
      try {
        req = JSON.parse(await c.req.text()) as RpcRequest
      } catch {
        return rpcError(null, -32700, 'Parse error')
      }
      if (req === null || typeof req !== 'object' || req.jsonrpc !== '2.0' || typeof req.method !== 'string') {
        return rpcError(req?.id, -32600, 'Invalid request')
      }
      const version = c.req.param('version') as 'v0' | 'v1'
      const method = METHODS[req.method]
      counts.set(req.method, (counts.get(req.method) ?? 0) + 1)
      if (method === undefined) return rpcError(req.id, -32601, `method '${req.method}' not found`)
      const params = req.params === undefined || req.params === null ? [] : req.params
      if (!Array.isArray(params)) return rpcError(req.id, -32700, 'unmarshaling param array: not an array')
      const expected = version === 'v0' ? (method.v0Params ?? method.params) : method.params
      if (params.length !== expected) {
        return rpcError(req.id, -32602, `wrong param count (method '${req.method}'): ${params.length} != ${expected}`)
      }
      const signal = AbortSignal.any([c.req.raw.signal, closing.signal])
      try {
        const result = await method.call(new Params(req.method, params), {
          chain,
          miners: init.miners ?? {},
          version,
          signal,
          genesisTime
        })
        return c.json({ jsonrpc: '2.0', id: req.id, result: result ?? null })
      } catch (cause) {
        if (cause instanceof RpcError) return rpcError(req.id, cause.code, cause.message)
        if (signal.aborted) return rpcError(req.id, 1, 'context canceled')
        throw cause
      }
    }
  )

  const server = await serveLoopback(app, init.port)
  const epochMs = init.epochMs ?? DEFAULT_EPOCH_MS
  const ticker = epochMs > 0 ? setInterval(() => chain.advance(1), epochMs) : undefined
  ticker?.unref()
  const ma = `/ip4/127.0.0.1/tcp/${server.port}/http`
  return {
    url: server.url,
    apiInfo: init.token === undefined ? ma : `${init.token}:${ma}`,
    get calls() {
      return counts.get('Filecoin.StateMinerInfo') ?? 0
    },
    callsOf: (method) => counts.get(method) ?? 0,
    get height() {
      return chain.height
    },
    advance: (epochs = 1) => chain.advance(epochs),
    balanceOf: (address) => chain.state.balanceOf(parseAddress(address)),
    channel: (address) => {
      const actor = chain.state.get(parseAddress(address))
      return actor?.paych === undefined ? undefined : channelView(chain, actor)
    },
    get messages() {
      return chain.log.map(record)
    },
    close: async () => {
      if (ticker !== undefined) clearInterval(ticker)
      closing.abort(new Error('the Lotus stand-in is closing'))
      await server.close()
    }
  }
}

function channelView(chain: Chain, actor: Actor): LotusChannel {
  const p = actor.paych as NonNullable<Actor['paych']>
  const key = (id: bigint) => {
    const party = chain.state.byId(id)
    return party?.robust === undefined ? `f0${id}` : formatAddress(party.robust)
  }
  return {
    address: formatAddress(actor.robust as Address),
    idAddress: `f0${actor.id}`,
    from: key(p.from),
    to: key(p.to),
    balance: actor.balance,
    toSend: p.toSend,
    settlingAt: p.settlingAt,
    minSettleHeight: p.minSettleHeight,
    lanes: new Map([...p.lanes].map(([lane, s]) => [lane, { ...s }]))
  }
}

function record(e: ExecutedMessage): LotusMessageRecord {
  return {
    cid: e.cid,
    from: formatAddress(e.message.from),
    to: formatAddress(e.message.to),
    nonce: e.message.nonce,
    value: e.message.value,
    method: e.message.method,
    height: e.height,
    exitCode: e.receipt.exitCode,
    return: e.receipt.return,
    gasUsed: e.receipt.gasUsed,
    gasCost: e.gasCost,
    ...(e.error === undefined ? {} : { error: e.error })
  }
}
