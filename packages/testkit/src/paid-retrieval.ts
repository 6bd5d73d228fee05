// Paid retrievals on the provider's side, as a lotus-markets (go-fil-markets over go-data-transfer)
// provider ran them; Boost itself serves only free ones (data-transfer.md §8). A proposal at the
// ask's terms or better is accepted (FundsNeededUnseal first when unsealing costs), the Graphsync
// response pauses before a block that would pass the data limit with FundsNeeded, or before its
// end with FundsNeededLastPayment, each carrying what is owed as a data-transfer VoucherResult in
// the paused message; a RetrievalDealPayment/1 voucher arriving on /fil/datatransfer/1.2.0 is
// checked through Lotus and, covering everything owed, resumes the response. A bad one gets an
// Errored deal response and the transfer is cancelled; an unpaid one is cancelled after a while.
import { formatAddress } from '@autoretrieve/chain'
import {
  type DealProposal,
  DealStatus,
  dealPaymentFromNode,
  dealResponseToNode,
  EXTENSION_DATA_TRANSFER,
  EXTENSION_OUTGOING_BLOCK,
  MessageType,
  type TransferMessage,
  type TransferRequest,
  transferMessageToNode,
  VoucherType
} from '@autoretrieve/filecoin'
import {
  type BlockGate,
  type Extensions,
  type ResponsePause,
  ResponseStatus,
  type ResumeResult
} from '@autoretrieve/graphsync'
import { checkProposedTerms, PaidDeal, type PaidTerms } from './paid-deal.ts'
import type { VoucherChecker } from './voucher-checker.ts'

/** How long a paused transfer waits for its payment before the provider cancels it. */
export const DEFAULT_PAYMENT_TIMEOUT_MS = 60_000

/**
 * How long vouchers for a transfer are still taken after its response ended: a client may close
 * its request as soon as it has sent the last payment, before the provider has read it.
 */
const LATE_VOUCHER_MS = 10_000

/** go-fil-markets' default ask: 1 MiB before the first payment, each interval 1 MiB longer. */
export const DEFAULT_PAYMENT_INTERVAL = 1n << 20n
export const DEFAULT_PAYMENT_INTERVAL_INCREASE = 1n << 20n

export interface PaidRetrievalStats {
  /** Payment demands sent (FundsNeededUnseal, FundsNeeded, FundsNeededLastPayment). */
  paymentsRequested: number
  /** Vouchers accepted (checked and added through Lotus). */
  vouchersReceived: number
  /** Vouchers refused (bad signature, lane nonce not above the last, too small, wrong deal...). */
  vouchersRejected: number
  /** attoFIL the accepted vouchers added. */
  amountPaid: bigint
  /** The nonce of the last voucher accepted, per `<channel>/<lane>`. */
  lastNonceByLane: Record<string, bigint>
}

/** The fields of a data-transfer response about a deal. */
interface DealMessage {
  type: number
  accepted: boolean
  paused: boolean
  status: number
  owed?: bigint
  message?: string
}

/** A data-transfer response carrying a RetrievalDealResponse/1 (or none, `status` -1). */
export function dealResponseMessage(ids: { transferId: bigint; dealId: bigint }, m: DealMessage): TransferMessage {
  return {
    isRequest: false,
    response: {
      type: m.type,
      accepted: m.accepted,
      paused: m.paused,
      transferId: ids.transferId,
      voucherType: m.status < 0 ? '' : VoucherType.DealResponse,
      voucherResult:
        m.status < 0
          ? null
          : dealResponseToNode({
              status: m.status,
              id: ids.dealId,
              paymentOwed: m.owed ?? 0n,
              message: m.message ?? ''
            })
    }
  }
}

/** The same message under both names go-data-transfer uses for what its outgoing-block hook sends. */
const outgoing = (message: TransferMessage): Extensions => {
  const node = transferMessageToNode(message)
  return { [EXTENSION_OUTGOING_BLOCK]: node, [EXTENSION_DATA_TRANSFER]: node }
}

interface DealEntry {
  peer: string
  deal: PaidDeal
  /** Resumes the paused response; set while it waits for a payment. */
  waiter?: (result: ResumeResult) => void
  /** A refused payment: the transfer ends at the next block. */
  failure?: string
  /** The pending demand is the last payment (FundsNeededLastPayment). */
  lastPayment: boolean
  /** Vouchers are checked one at a time per deal, in arrival order. */
  chain: Promise<void>
}

export interface PaidRetrievals {
  /** The ask's terms: what the query answers. */
  readonly terms: PaidTerms
  /**
   * Decides on a proposal the Boost checks passed: the accepting message (a priced deal is kept
   * under `key` until `ended`), or the reason to reject it.
   */
  accept(
    key: string,
    peer: string,
    transferId: bigint,
    proposal: DealProposal
  ): { accepted: TransferMessage } | { rejected: string }
  /** The Graphsync pause hook for the deal under `key` (undefined for free deals). */
  beforeBlock(key: string, gate: BlockGate): ResponsePause | undefined
  /** A data-transfer request from `peer` on /fil/datatransfer/1.2.0 (vouchers and cancels). */
  receive(peer: string, request: TransferRequest): void
  /** The response under `key` ended: drop its deal. */
  ended(key: string): void
}

export function createPaidRetrievals(parts: {
  terms: PaidTerms
  checker: VoucherChecker
  stats: PaidRetrievalStats
  /** Sends a data-transfer message to `peer` on a stream of its own. */
  send(peer: string, message: TransferMessage): Promise<void>
  paymentTimeoutMs?: number
}): PaidRetrievals {
  const { terms, stats } = parts
  const paymentTimeoutMs = parts.paymentTimeoutMs ?? DEFAULT_PAYMENT_TIMEOUT_MS
  const deals = new Map<string, DealEntry>()
  const byTransfer = new Map<string, DealEntry>()
  const transferKey = (peer: string, transferId: bigint) => `${peer}/${transferId}`

  /** Ends the transfer: the Graphsync response stops with 35, carrying a data-transfer Cancel. */
  const cancelled = (entry: DealEntry): ResumeResult => ({
    status: ResponseStatus.RequestCancelled,
    extensions: outgoing(
      dealResponseMessage(entry.deal, {
        type: MessageType.Cancel,
        accepted: false,
        paused: false,
        status: -1
      })
    )
  })

  /** Refuses the deal's payment: the client hears why, and the transfer is cancelled. */
  function fail(entry: DealEntry, why: string): void {
    entry.failure ??= why
    parts
      .send(
        entry.peer,
        dealResponseMessage(entry.deal, {
          type: MessageType.VoucherResult,
          accepted: false,
          paused: false,
          status: DealStatus.Errored,
          message: why
        })
      )
      .catch(() => {})
    const waiter = entry.waiter
    entry.waiter = undefined
    waiter?.(cancelled(entry))
  }

  function waitForPayment(entry: DealEntry, signal: AbortSignal): Promise<ResumeResult> {
    return new Promise<ResumeResult>((resolve) => {
      const done = (result: ResumeResult) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        entry.waiter = undefined
        resolve(result)
      }
      // The requester cancelled or the node stopped: the responder has stopped waiting already.
      const onAbort = () => done({})
      const timer = setTimeout(() => {
        fail(entry, `no payment within ${paymentTimeoutMs} ms`)
      }, paymentTimeoutMs)
      timer.unref?.()
      signal.addEventListener('abort', onAbort, { once: true })
      entry.waiter = done
    })
  }

  async function pay(entry: DealEntry, request: TransferRequest): Promise<void> {
    if (entry.failure !== undefined) return
    const { deal } = entry
    let why: string | undefined
    try {
      const payment = dealPaymentFromNode(request.voucher)
      if (payment.id !== deal.dealId) throw new Error(`payment for deal ${payment.id}, not deal ${deal.dealId}`)
      // Everything sent so far (and the unseal price) must be covered: go-fil-markets' minDelta.
      const delta = await parts.checker.accept(payment, deal.owed)
      const sv = payment.paymentVoucher!
      stats.vouchersReceived++
      stats.amountPaid += delta
      stats.lastNonceByLane[`${formatAddress(sv.channelAddr)}/${sv.lane}`] = sv.nonce
      const wasLast = deal.owed > 0n && entry.waiter !== undefined && entry.lastPayment
      deal.credit(delta)
      if (deal.owed > 0n) return // still short (cannot happen past minDelta): stay paused
      const waiter = entry.waiter
      entry.waiter = undefined
      // go-data-transfer resumes with an Update (Paus false); the last payment completes the deal.
      waiter?.({
        extensions: outgoing(
          wasLast
            ? dealResponseMessage(deal, {
                type: MessageType.VoucherResult,
                accepted: true,
                paused: false,
                status: DealStatus.Completed
              })
            : dealResponseMessage(deal, { type: MessageType.Update, accepted: true, paused: false, status: -1 })
        )
      })
      return
    } catch (err) {
      why = (err as Error).message
    }
    stats.vouchersRejected++
    fail(entry, why)
  }

  return {
    terms,
    accept(key, peer, transferId, proposal) {
      const p = proposal.params
      const reason = checkProposedTerms(terms, p)
      if (reason !== undefined) return { rejected: reason }
      const ids = { transferId, dealId: proposal.id }
      const priced = p.pricePerByte > 0n || p.unsealPrice > 0n
      if (priced) {
        const deal = new PaidDeal({ ...ids, terms: p })
        const entry: DealEntry = { peer, deal, chain: Promise.resolve(), lastPayment: false }
        deals.set(key, entry)
        byTransfer.set(transferKey(peer, transferId), entry)
      }
      // Unsealing costs: the deal is accepted paused, asking for the unseal price first.
      const unseal = p.unsealPrice > 0n
      return {
        accepted: dealResponseMessage(ids, {
          type: MessageType.New,
          accepted: true,
          paused: unseal,
          status: unseal ? DealStatus.FundsNeededUnseal : DealStatus.Accepted,
          owed: unseal ? p.unsealPrice : 0n
        })
      }
    },
    beforeBlock(key, gate) {
      const entry = deals.get(key)
      if (entry === undefined) return undefined
      if (entry.failure !== undefined) return { resume: async () => cancelled(entry) }
      const { deal } = entry
      const first = deal.bytesSent === 0n && deal.fundsReceived === 0n
      const demand = deal.demand(BigInt(gate.bytesSent), BigInt(gate.blockBytes), gate.last)
      if (demand === undefined) return undefined
      stats.paymentsRequested++
      entry.lastPayment = demand.status === DealStatus.FundsNeededLastPayment
      // The unseal demand went out with the acceptance: the first pause only stops the response.
      const announced = first && demand.status === DealStatus.FundsNeededUnseal
      return {
        extensions: announced
          ? undefined
          : outgoing(
              dealResponseMessage(deal, {
                type: MessageType.VoucherResult,
                accepted: true,
                paused: true,
                status: demand.status,
                owed: demand.owed
              })
            ),
        resume: (signal) => waitForPayment(entry, signal)
      }
    },
    receive(peer, request) {
      const entry = byTransfer.get(transferKey(peer, request.transferId))
      if (entry === undefined) {
        if (request.type === MessageType.Voucher) stats.vouchersRejected++
        return
      }
      if (request.type === MessageType.Cancel) {
        const waiter = entry.waiter
        entry.waiter = undefined
        entry.failure ??= 'cancelled by the client'
        waiter?.(cancelled(entry))
        return
      }
      if (request.type !== MessageType.Voucher || request.voucherType !== VoucherType.DealPayment) return
      entry.chain = entry.chain.then(() => pay(entry, request))
    },
    ended(key) {
      const entry = deals.get(key)
      if (entry === undefined) return
      deals.delete(key)
      const waiter = entry.waiter
      entry.waiter = undefined
      waiter?.({})
      const tk = transferKey(entry.peer, entry.deal.transferId)
      setTimeout(() => byTransfer.delete(tk), LATE_VOUCHER_MS).unref?.()
    }
  }
}
