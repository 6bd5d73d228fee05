// The provider's side of a payment, as lotus-markets' retrieval adapter runs it against its own
// Lotus node (SavePaymentVoucher): the channel must pay this provider, Lotus must find the voucher
// valid (signature by the channel's From, lane nonce above the last, funds in the channel:
// PaychVoucherCheckValid), and adding it must bring at least what is owed (PaychVoucherAdd's
// minDelta). The two calls @autoretrieve/chain's client has no use for on the paying side
// (PaychVoucherAdd, StateLookupID) are made here with a minimal JSON-RPC call.
import {
  type Address,
  createLotusClient,
  formatAddress,
  type LotusClient,
  parseLotusJson,
  type SignedVoucher,
  signedVoucherToLotusJson,
  stringifyLotusJson
} from '@autoretrieve/chain'
import type { DealPayment } from '@autoretrieve/filecoin'

/** Per Lotus call. */
const LOTUS_CALL_TIMEOUT_MS = 10_000
/** A Lotus answer to the calls made here is a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024

/** A payment the provider refuses, with the reason the client is told. */
export class VoucherRejectedError extends Error {
  static override name = 'VoucherRejectedError'
  override name = 'VoucherRejectedError'
  readonly code = 'ERR_VOUCHER_REJECTED'
}

/**
 * POST URL and token of FULLNODE_API_INFO in the forms the Lotus stand-in prints: `TOKEN:<multiaddr>`
 * or a bare `/ip4/…/tcp/…/http` multiaddr, or an http(s) URL.
 */
function endpointOf(apiInfo: string): { url: string; token?: string } {
  let rest = apiInfo.trim()
  let token: string | undefined
  if (!rest.startsWith('/') && !/^https?:\/\//.test(rest)) {
    const colon = rest.indexOf(':')
    token = rest.slice(0, colon)
    rest = rest.slice(colon + 1)
  }
  if (/^https?:\/\//.test(rest)) return { url: rest, token }
  const m = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d+)(\/https?)?$/.exec(rest)
  if (m === null) throw new Error(`not a Lotus API address the stand-in understands: ${apiInfo}`)
  const host = m[1] === 'ip6' ? `[${m[2]}]` : m[2]
  return { url: `${m[4] === '/https' ? 'https' : 'http'}://${host}:${m[3]}/rpc/v1`, token }
}

export interface VoucherChecker {
  /**
   * Checks `payment` and adds its voucher to Lotus; returns the attoFIL it adds over the best
   * voucher Lotus had for its lane. Throws VoucherRejectedError saying why.
   */
  accept(payment: DealPayment, minDelta: bigint, signal?: AbortSignal): Promise<bigint>
}

export function createVoucherChecker(init: { apiInfo: string; paymentAddress: Address }): VoucherChecker {
  const client: LotusClient = createLotusClient({ apiInfo: init.apiInfo, timeoutMs: LOTUS_CALL_TIMEOUT_MS })
  const { url, token } = endpointOf(init.apiInfo)
  const mine = formatAddress(init.paymentAddress)
  let mineId: string | undefined

  async function call(method: string, params: unknown[], signal?: AbortSignal): Promise<unknown> {
    const timeout = AbortSignal.timeout(LOTUS_CALL_TIMEOUT_MS)
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: stringifyLotusJson({ jsonrpc: '2.0', id: 1, method, params }),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    })
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (size > MAX_ANSWER_BYTES) {
        await res.body?.cancel().catch(() => {})
        throw new Error(`${method}: answer over ${MAX_ANSWER_BYTES} bytes`)
      }
      chunks.push(chunk)
    }
    const body = parseLotusJson(Buffer.concat(chunks).toString('utf8')) as {
      result?: unknown
      error?: { message?: string }
    }
    if (body.error != null) throw new Error(`${method}: ${body.error.message ?? 'error'}`)
    return body.result
  }

  /** Lotus' words become the reason the client is told. */
  const reject = (cause: unknown): never => {
    if (cause instanceof VoucherRejectedError) throw cause
    throw new VoucherRejectedError((cause as Error).message, { cause })
  }

  return {
    async accept(payment, minDelta, signal) {
      const sv: SignedVoucher | null = payment.paymentVoucher
      if (sv === null) throw new VoucherRejectedError('the payment carries no voucher')
      const ch = payment.paymentChannel
      try {
        // The channel must pay us: Lotus' paychmgr refuses vouchers on a channel it does not own.
        const state = await client.stateReadPaych(ch, { signal })
        const to = formatAddress(state.to)
        if (to !== mine) {
          mineId ??= String(await call('Filecoin.StateLookupID', [mine, null], signal))
          if (to !== mineId)
            throw new VoucherRejectedError(
              `payment channel ${formatAddress(ch)} pays ${to}, not this provider (${mine})`
            )
        }
        await client.paychVoucherCheckValid(ch, sv, { signal })
        const proof = null
        const delta = BigInt(
          String(
            await call(
              'Filecoin.PaychVoucherAdd',
              [formatAddress(ch), signedVoucherToLotusJson(sv), proof, minDelta.toString()],
              signal
            )
          )
        )
        // Lotus answers 0 for a voucher it already holds, whatever minDelta says.
        if (delta === 0n && minDelta > 0n) throw new VoucherRejectedError('voucher already received')
        return delta
      } catch (cause) {
        return reject(cause)
      }
    }
  }
}
