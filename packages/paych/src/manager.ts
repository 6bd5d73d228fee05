import {
  BuiltinMethod,
  decodeExecReturn,
  encodeInitExecParams,
  encodePaychConstructorParams,
  formatAddress,
  formatFil,
  INIT_ACTOR,
  type LotusClient,
  laneVoucher,
  parseAddress,
  signVoucher
} from '@autoretrieve/chain'
import { type Logger, silentLogger } from '@autoretrieve/interface'
import type { PaychRepository, StoredChannel } from '@autoretrieve/store'
import type { Wallet } from '@autoretrieve/wallet'
import { PaychError, SpendLimitError } from './errors.ts'
import type { ChannelView, PaymentLane, PaymentsSummary, RetrievalPayments } from './types.ts'

export interface PaychManagerInit {
  repository: PaychRepository
  lotus: LotusClient
  /** Where Lotus is, for messages (a URL without its token). */
  lotusUrl: string
  wallet: Wallet
  /** attoFIL a UTC day may spend; undefined: no cap. */
  maxSpendPerDay?: bigint
  /** Reuse a channel with at least this much available (balance - paid), else add funds. */
  minAvailable: bigint
  /** What a channel is created with and what is added to one that runs low (more when a lane needs it). */
  fundAmount: bigint
  logger?: Logger
  /** The clock the day's spend is charged by (tests). */
  now?: () => Date
}

export interface PaychManager extends RetrievalPayments {
  /** Every channel this node opened, with the chain's balance and settle state where Lotus answers. */
  list(options?: { signal?: AbortSignal }): Promise<ChannelView[]>
  /** Sends Settle: after the settle delay, `collect` pays out. Returns the epoch collect may run from. */
  settle(channel: string, options?: { signal?: AbortSignal }): Promise<{ settlingAt: number }>
  /** Sends Collect once the settle delay has passed (PaychError saying when, before it). */
  collect(channel: string, options?: { signal?: AbortSignal }): Promise<void>
}

const max = (a: bigint, b: bigint) => (a > b ? a : b)

/** Rejects with the signal's reason as soon as it fires; `work` keeps running (it is shared). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      }
    )
  })
}

export function createPaychManager(init: PaychManagerInit): PaychManager {
  const { repository: repo, lotus, wallet } = init
  const log = init.logger ?? silentLogger
  const now = init.now ?? (() => new Date())
  const where = `Lotus at ${init.lotusUrl}`
  // Channel work (create, add funds) per (from, to), one at a time: a second openLane for the
  // same pair waits for the first's message and then finds the channel funded, instead of
  // creating or funding it again.
  const tails = new Map<string, Promise<unknown>>()

  const serial = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).catch(() => {}).then(fn)
    tails.set(key, run)
    void run
      .finally(() => {
        if (tails.get(key) === run) tails.delete(key)
      })
      .catch(() => {})
    return run
  }

  /** A Lotus or chain failure as a PaychError saying what was being done and where. */
  const fail = (what: string, err: unknown): PaychError => {
    if (err instanceof PaychError) return err
    const e = err as Error & { code?: string }
    // A failed message names its CID and exit code; anything else happened talking to Lotus.
    const detail = e.code === 'ERR_MESSAGE_FAILED' ? e.message : `${where}: ${e.message ?? String(err)}`
    return new PaychError(`${what}: ${detail}`, { cause: err })
  }

  const defaultKey = async () => {
    const from = await wallet.defaultAddress().catch((err) => {
      throw new PaychError(`cannot read the wallet in ${wallet.dir}: ${(err as Error).message}`, { cause: err })
    })
    if (from === undefined)
      throw new PaychError(`no default wallet key in ${wallet.dir}: run \`autoretrieve wallet new\` and fund it`)
    return { from, privateKey: (await wallet.key(from)).privateKey }
  }

  /** Fails early, with the numbers, when the wallet cannot cover `amount` (plus gas). */
  const checkWallet = async (from: string, amount: bigint, what: string) => {
    let balance: bigint
    try {
      balance = await lotus.walletBalance(from)
    } catch (err) {
      throw fail(`${what}: cannot read the balance of ${from}`, err)
    }
    if (balance <= amount)
      throw new PaychError(
        `${what}: wallet ${from} holds ${formatFil(balance)}, it needs ${formatFil(amount)} plus gas; send FIL to it (${where})`
      )
  }

  /** The open channel from → to with at least `need` available, creating or funding it. */
  const ensureChannel = async (
    from: string,
    to: string,
    privateKey: Uint8Array,
    need: bigint,
    maxAmount: bigint
  ): Promise<StoredChannel> => {
    const existing = await repo.openChannel(from, to)
    if (existing !== null) {
      let state: Awaited<ReturnType<LotusClient['stateReadPaych']>> | undefined
      try {
        state = await lotus.stateReadPaych(existing.address)
      } catch (err) {
        // Gone from the chain (collected from elsewhere): stop reusing it, open a new one.
        if (!/actor not found/.test((err as Error).message ?? ''))
          throw fail(`cannot read payment channel ${existing.address}`, err)
        await repo.markCollected(existing.address)
        log.warn({ channel: existing.address }, 'payment channel is gone from the chain: opening a new one')
      }
      if (state === undefined) {
        // fall through to create
      } else if (state.settlingAt !== 0n) {
        // Settled from elsewhere (the provider may settle): no new lanes on it.
        await repo.markSettling(existing.address, Number(state.settlingAt))
        log.warn(
          { channel: existing.address, settlingAt: state.settlingAt },
          'payment channel is settling: opening a new one'
        )
      } else {
        const available = state.balance - existing.paid
        if (available >= need) return existing
        const add = max(init.fundAmount, need - available)
        const what = `cannot add ${formatFil(add)} to payment channel ${existing.address}`
        await checkWallet(from, add, what)
        try {
          const receipt = await lotus.pushMessage(privateKey, {
            to: existing.address,
            value: add,
            method: BuiltinMethod.Send,
            params: new Uint8Array()
          })
          log.info({ channel: existing.address, added: add, message: receipt.cid.toString() }, 'payment channel funded')
        } catch (err) {
          throw fail(what, err)
        }
        await repo.addFunds(existing.address, add)
        return { ...existing, funded: existing.funded + add }
      }
    }
    const amount = max(init.fundAmount, maxAmount)
    const what = `cannot create a payment channel from ${from} to ${to} with ${formatFil(amount)}`
    await checkWallet(from, amount, what)
    let robust: string
    let id: string
    try {
      const nv = await lotus.stateNetworkVersion()
      const codes = await lotus.stateActorCodeCids(nv)
      const codeCid = codes.paymentchannel
      if (codeCid === undefined)
        throw new PaychError(`${what}: ${where} names no paymentchannel actor code at network version ${nv}`)
      const receipt = await lotus.pushMessage(privateKey, {
        to: INIT_ACTOR,
        value: amount,
        method: BuiltinMethod.InitExec,
        params: encodeInitExecParams({
          codeCid,
          constructorParams: encodePaychConstructorParams({ from: parseAddress(from), to: parseAddress(to) })
        })
      })
      const made = decodeExecReturn(receipt.return)
      robust = formatAddress(made.robustAddress)
      id = formatAddress(made.idAddress)
      log.info({ channel: robust, id, from, to, amount, message: receipt.cid.toString() }, 'payment channel created')
    } catch (err) {
      throw fail(what, err)
    }
    await repo.addChannel({ address: robust, idAddress: id, from, to, funded: amount })
    return (await repo.getChannel(robust))!
  }

  const makeLane = (channel: string, lane: number, privateKey: Uint8Array): PaymentLane => {
    let paid = 0n
    const channelAddr = parseAddress(channel)
    return {
      channel,
      lane: BigInt(lane),
      get paid() {
        return paid
      },
      async voucher(amount) {
        const out = await repo.recordVoucher({ channel, lane, amount, maxSpendPerDay: init.maxSpendPerDay, now: now() })
        if (!out.ok) {
          if (out.reason === 'spend_limit')
            throw new SpendLimitError(
              `a voucher for ${formatFil(out.delta)} more would take today's spend past max-spend-per-day (${formatFil(init.maxSpendPerDay ?? 0n)}; spent ${formatFil(out.spentToday)})`
            )
          if (out.reason === 'amount_decreased')
            throw new PaychError(
              `lane ${lane} of ${channel} has a voucher for ${out.last} attoFIL already: amounts only grow`
            )
          throw new PaychError(`lane ${lane} of ${channel} is not in the database`)
        }
        const signed = signVoucher(
          laneVoucher({ channel: channelAddr, lane: BigInt(lane), nonce: BigInt(out.nonce), amount }),
          privateKey
        )
        paid = amount
        return signed
      }
    }
  }

  const keyFor = async (address: string) => {
    try {
      return (await wallet.key(address)).privateKey
    } catch (err) {
      throw new PaychError(`the wallet in ${wallet.dir} has no key for ${address}: ${(err as Error).message}`, {
        cause: err
      })
    }
  }

  const channelOf = async (channel: string): Promise<StoredChannel> => {
    let address: string
    try {
      address = formatAddress(parseAddress(channel))
    } catch (cause) {
      throw new PaychError(`"${channel.slice(0, 120)}" is not a channel address (f2…)`, { cause })
    }
    const found = await repo.getChannel(address)
    if (found === null) throw new PaychError(`this node opened no payment channel ${address}`)
    return found
  }

  return {
    async remainingToday() {
      if (init.maxSpendPerDay === undefined) return undefined
      return max(0n, init.maxSpendPerDay - (await repo.spentToday(now())))
    },

    async openLane({ provider, paymentAddress, maxAmount, signal }) {
      signal.throwIfAborted()
      let to: string
      try {
        to = formatAddress(parseAddress(paymentAddress))
      } catch (cause) {
        throw new PaychError(
          `provider ${provider}'s payment address "${paymentAddress.slice(0, 120)}" is not an address`,
          {
            cause
          }
        )
      }
      const { from, privateKey } = await defaultKey()
      const need = max(maxAmount, init.minAvailable)
      // Not tied to this caller's signal: a create or add-funds message, once pushed, lands
      // whether or not this retrieval still wants it, and it must be recorded when it does.
      const channel = await raceAbort(
        serial(`${from} ${to}`, () => {
          if (signal.aborted) throw signal.reason
          return ensureChannel(from, to, privateKey, need, maxAmount)
        }),
        signal
      )
      const lane = await repo.allocateLane(channel.address, provider)
      return makeLane(channel.address, lane.lane, privateKey)
    },

    async summary(): Promise<PaymentsSummary> {
      const channels = await repo.listChannels()
      return {
        spentToday: (await repo.spentToday(now())).toString(),
        maxSpendPerDay: init.maxSpendPerDay?.toString() ?? null,
        channels: channels
          .filter((c) => c.collectedAt === null)
          .map((c) => ({
            address: c.address,
            from: c.from,
            to: c.to,
            balance: c.funded.toString(),
            paid: c.paid.toString(),
            lanes: c.lanes,
            settlingAt: c.settlingAt
          }))
      }
    },

    async list(options = {}) {
      const out: ChannelView[] = []
      for (const c of await repo.listChannels()) {
        const view: ChannelView = {
          address: c.address,
          idAddress: c.idAddress,
          from: c.from,
          to: c.to,
          balance: c.funded.toString(),
          paid: c.paid.toString(),
          lanes: c.lanes,
          settlingAt: c.settlingAt,
          collected: c.collectedAt !== null
        }
        if (c.collectedAt === null) {
          try {
            const state = await lotus.stateReadPaych(c.address, options)
            view.balance = state.balance.toString()
            if (state.settlingAt !== 0n) view.settlingAt = Number(state.settlingAt)
          } catch (err) {
            view.chainError = `${where}: ${(err as Error).message}`
          }
        }
        out.push(view)
      }
      return out
    },

    async settle(channel, options = {}) {
      const c = await channelOf(channel)
      const privateKey = await keyFor(c.from)
      const what = `cannot settle payment channel ${c.address}`
      try {
        await lotus.pushMessage(
          privateKey,
          { to: c.address, value: 0n, method: BuiltinMethod.PaychSettle, params: new Uint8Array() },
          options.signal
        )
        const state = await lotus.stateReadPaych(c.address, options)
        const settlingAt = Number(state.settlingAt)
        await repo.markSettling(c.address, settlingAt)
        return { settlingAt }
      } catch (err) {
        throw fail(what, err)
      }
    },

    async collect(channel, options = {}) {
      const c = await channelOf(channel)
      const privateKey = await keyFor(c.from)
      const what = `cannot collect payment channel ${c.address}`
      let settlingAt: bigint
      let height: bigint
      try {
        settlingAt = (await lotus.stateReadPaych(c.address, options)).settlingAt
        height = await lotus.chainHeadHeight(options)
      } catch (err) {
        throw fail(what, err)
      }
      if (settlingAt === 0n)
        throw new PaychError(`${what}: it is not settling; run \`autoretrieve paych settle ${c.address}\` first`)
      if (height < settlingAt) {
        const minutes = Number(settlingAt - height) / 2 // 30 s epochs
        throw new PaychError(
          `${what} yet: it can be collected from epoch ${settlingAt} (now ${height}, about ${Math.ceil(minutes)} minutes on mainnet)`
        )
      }
      try {
        await lotus.pushMessage(
          privateKey,
          { to: c.address, value: 0n, method: BuiltinMethod.PaychCollect, params: new Uint8Array() },
          options.signal
        )
      } catch (err) {
        throw fail(what, err)
      }
      await repo.markCollected(c.address)
    }
  }
}
