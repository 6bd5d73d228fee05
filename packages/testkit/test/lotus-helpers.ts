// A small Lotus JSON-RPC caller for the stand-in's tests, signing real messages with
// @autoretrieve/chain the way a wallet would (nonce, gas estimate, sign, push, wait).
import {
  type Address,
  addressOfKey,
  formatAddress,
  type Message,
  messageFromLotusJson,
  messageToLotusJson,
  type SignedMessage,
  signedMessageToLotusJson,
  signMessage
} from '@autoretrieve/chain'

export interface RpcAnswer {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: JSON-RPC results are untyped JSON
  result?: any
  error?: { code: number; message: string }
}

export async function rpc(url: string, method: string, params: unknown[], version = 'v1'): Promise<RpcAnswer> {
  const res = await fetch(`${url}/rpc/${version}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(20_000)
  })
  return { status: res.status, ...((await res.json()) as object) }
}

/** The result, or throws with Lotus' error message. */
// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC results are untyped JSON
export async function call(url: string, method: string, params: unknown[]): Promise<any> {
  const a = await rpc(url, method, params)
  if (a.error !== undefined) throw new Error(`${method}: ${a.error.message}`)
  return a.result
}

export interface Send {
  to: Address
  value?: bigint
  method?: bigint
  params?: Uint8Array
  /** Fixed gas fields instead of GasEstimateMessageGas (which refuses a message that would fail). */
  gas?: { gasLimit: bigint; gasFeeCap: bigint; gasPremium: bigint }
}

/** Enough gas for any of the stand-in's methods, for messages meant to fail on chain. */
export const FIXED_GAS = { gasLimit: 10_000_000n, gasFeeCap: 101_100n, gasPremium: 100_000n }

/** Nonce from MpoolGetNonce, gas from GasEstimateMessageGas, then signed by `key`. */
export async function prepare(url: string, key: Uint8Array, send: Send): Promise<SignedMessage> {
  const from = addressOfKey(key)
  const nonce = BigInt(await call(url, 'Filecoin.MpoolGetNonce', [formatAddress(from)]))
  const draft: Message = {
    version: 0,
    to: send.to,
    from,
    nonce,
    value: send.value ?? 0n,
    gasLimit: 0n,
    gasFeeCap: 0n,
    gasPremium: 0n,
    method: send.method ?? 0n,
    params: send.params ?? new Uint8Array(0)
  }
  if (send.gas !== undefined) return signMessage({ ...draft, ...send.gas }, key)
  const estimated = messageFromLotusJson(
    await call(url, 'Filecoin.GasEstimateMessageGas', [messageToLotusJson(draft), { MaxFee: '0' }, null])
  )
  return signMessage(estimated, key)
}

export async function push(url: string, sm: SignedMessage): Promise<string> {
  return (await call(url, 'Filecoin.MpoolPush', [signedMessageToLotusJson(sm)]))['/']
}

/** StateWaitMsg's MsgLookup (v1, confidence 1). */
export async function waitMsg(url: string, cid: string) {
  return (await call(url, 'Filecoin.StateWaitMsg', [{ '/': cid }, 1, -1, true])) as {
    Message: { '/': string }
    Receipt: { ExitCode: number; Return: string | null; GasUsed: number }
    ReturnDec: { IDAddress: string; RobustAddress: string } | null
    Height: number
  }
}

/** prepare + push + wait. */
export async function sendAndWait(url: string, key: Uint8Array, send: Send) {
  return waitMsg(url, await push(url, await prepare(url, key, send)))
}
