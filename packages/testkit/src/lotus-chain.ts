// The stand-in's chain: a height that advances one epoch at a time, the messages pushed since the
// last epoch, and what each executed message left (its receipt, kept for StateWaitMsg). At every
// new epoch the pending messages execute in the order they were accepted, as if the next tipset
// included them all.
import { type Address, chainCid, encodeSignedMessage, type Message, type SignedMessage } from '@autoretrieve/chain'
import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import { ExitCode, exitCodeName } from './lotus-constants.ts'
import { ActorError, RpcError } from './lotus-errors.ts'
import { estimateGas, gasCharge, onChainGas } from './lotus-gas.ts'
import { type Pending, validatePush } from './lotus-mpool.ts'
import { StateTree } from './lotus-state.ts'
import { type CallContext, send } from './lotus-vm.ts'
import { VoucherStore } from './lotus-vouchers.ts'

export interface Receipt {
  exitCode: number
  return: Uint8Array
  gasUsed: bigint
}

/** One executed message, as the `messages` log and StateWaitMsg see it. */
export interface ExecutedMessage {
  /** The signed message's CID (what MpoolPush answered). */
  cid: string
  message: Message
  /** The epoch it executed at. */
  height: bigint
  receipt: Receipt
  /** attoFIL the sender paid for gas (burnt base fee, overestimation burn and miner tip). */
  gasCost: bigint
  /** Why the message failed (the actor's error), when its exit code is not 0. */
  error?: string
}

export interface ChainInit {
  startHeight: bigint
  settleDelayEpochs: bigint
  initialBalance: (a: Address) => bigint
}

export class Chain {
  height: bigint
  state: StateTree
  readonly vouchers: VoucherStore
  readonly log: ExecutedMessage[] = []
  private pending: Pending[] = []
  private readonly executed = new Map<string, ExecutedMessage>()
  /** Replaced (by fee) CID -> the CID that replaced it. */
  private readonly replaced = new Map<string, string>()
  private readonly listeners = new Set<() => void>()

  private readonly init: ChainInit

  constructor(init: ChainInit) {
    this.init = init
    this.height = init.startHeight
    this.state = new StateTree(init.initialBalance)
    this.vouchers = new VoucherStore(() => this.state)
  }

  /** MpoolGetNonce: the next nonce counting messages still in the mpool. */
  nextNonce(address: Address): bigint {
    return (this.state.get(address)?.nonce ?? 0n) + BigInt(this.pendingFrom(address).length)
  }

  /** GasEstimateMessageGas: the message with its zero gas fields filled from a dry run. */
  estimate(m: Message, maxFee: bigint): Message {
    const gasUsed = () => {
      const dry = this.state.snapshot()
      const ctx = this.context(dry, m)
      try {
        for (const p of this.pending) if (sameKey(p.sm.message.from, m.from)) this.run(ctx, p.sm.message)
        ctx.gas = 0n
        this.run(ctx, m)
      } catch (cause) {
        if (!(cause instanceof ActorError)) throw cause
        throw new RpcError(
          `estimating gas used: message execution failed: exit ${exitCodeName(cause.exitCode)}, reason: ${cause.message}`
        )
      }
      const dummy = encodeSignedMessage({ message: m, signature: { type: 1, data: new Uint8Array(65) } })
      return onChainGas(dummy.length) + ctx.gas
    }
    return { ...m, ...estimateGas(m, gasUsed, maxFee) }
  }

  /** MpoolPush: validates as Lotus' mpool does (throws RpcError), then queues for the next epoch. */
  push(sm: SignedMessage): CID {
    const accepted = validatePush(this, sm)
    if (accepted.replaces !== undefined) {
      this.pending = this.pending.map((p) => (p === accepted.replaces ? accepted.pending : p))
      this.replaced.set(accepted.replaces.cid.toString(), accepted.pending.cid.toString())
    } else {
      this.pending.push(accepted.pending)
    }
    return accepted.pending.cid
  }

  pendingFrom(address: Address): Pending[] {
    const actor = this.state.get(address)
    return this.pending.filter((p) =>
      actor === undefined ? sameKey(p.sm.message.from, address) : this.state.get(p.sm.message.from) === actor
    )
  }

  /** Moves the chain on `epochs` epochs, executing the pending messages at the first. */
  advance(epochs = 1) {
    for (let i = 0; i < epochs; i++) {
      this.height++
      const batch = this.pending
      this.pending = []
      for (const p of batch) this.execute(p)
      for (const listener of [...this.listeners]) listener()
    }
  }

  /** The executed message for a CID (following a replacement when allowed). */
  lookup(cid: string, allowReplaced = true): ExecutedMessage | undefined {
    const found = this.executed.get(cid)
    if (found !== undefined || !allowReplaced) return found
    const by = this.replaced.get(cid)
    return by === undefined ? undefined : this.executed.get(by)
  }

  /** Resolves once the message has executed and `confidence` more epochs have passed. */
  wait(cid: string, confidence: bigint, allowReplaced: boolean, signal: AbortSignal): Promise<ExecutedMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lookup(cid, allowReplaced)
        if (found !== undefined && this.height >= found.height + confidence) {
          done()
          resolve(found)
        }
      }
      const abort = () => {
        done()
        reject(signal.reason)
      }
      const done = () => {
        this.listeners.delete(check)
        signal.removeEventListener('abort', abort)
      }
      if (signal.aborted) return reject(signal.reason)
      this.listeners.add(check)
      signal.addEventListener('abort', abort)
      check()
    })
  }

  /** The CID of the (single-block) tipset at a height: stable, distinct per height. */
  tipsetCid(height: bigint): CID {
    return chainCid(dagCbor.encode(['autoretrieve-testkit lotus block', Number(height)]))
  }

  private context(state: StateTree, m: Message): CallContext {
    return {
      state,
      epoch: this.height,
      settleDelayEpochs: this.init.settleDelayEpochs,
      origin: m.from,
      originNonce: m.nonce,
      actorsCreated: 0n,
      gas: 0n
    }
  }

  /** Runs a message's call (no gas accounting): throws the ActorError that aborts it. */
  private run(ctx: CallContext, m: Message): Uint8Array {
    const caller = ctx.state.getOrCreate(m.from)
    if (caller === undefined) throw new ActorError(ExitCode.SysErrSenderStateInvalid, 'sender has no actor')
    caller.nonce++
    ctx.originNonce = m.nonce
    ctx.actorsCreated = 0n
    return send(ctx, { caller, to: m.to, value: m.value, method: m.method, params: m.params })
  }

  private execute(p: Pending) {
    const m = p.sm.message
    const sender = this.state.getOrCreate(m.from)
    const held = m.gasLimit * m.gasFeeCap
    const record = (receipt: Receipt, gasCost: bigint, error?: string) => {
      const entry: ExecutedMessage = { cid: p.cid.toString(), message: m, height: this.height, receipt, gasCost, error }
      this.executed.set(entry.cid, entry)
      this.log.push(entry)
    }
    if (sender === undefined || sender.balance < held) {
      // The mpool's balance check makes this unreachable; Lotus would not charge such a message.
      if (sender !== undefined) sender.nonce++
      return record({ exitCode: ExitCode.SysErrSenderStateInvalid, return: new Uint8Array(0), gasUsed: 0n }, 0n)
    }
    sender.balance -= held
    sender.nonce++
    const before = this.state.snapshot()
    const ctx = this.context(this.state, m)
    const base = onChainGas(p.size)
    let receipt: Receipt
    let error: string | undefined
    try {
      const ret = send(ctx, { caller: sender, to: m.to, value: m.value, method: m.method, params: m.params })
      receipt = { exitCode: ExitCode.Ok, return: ret, gasUsed: base + ctx.gas }
      if (receipt.gasUsed > m.gasLimit) throw new ActorError(ExitCode.SysErrOutOfGas, 'not enough gas')
    } catch (cause) {
      if (!(cause instanceof ActorError)) throw cause
      this.state.restore(before)
      error = cause.message
      // Out of gas uses all of the limit; any other abort what it had used.
      let gasUsed = base + ctx.gas
      if (gasUsed > m.gasLimit) gasUsed = m.gasLimit
      receipt = { exitCode: cause.exitCode, return: new Uint8Array(0), gasUsed }
    }
    const cost = gasCharge(m, receipt.gasUsed)
    const payer = this.state.byId(sender.id)
    if (payer !== undefined) payer.balance += held - cost
    record(receipt, cost, error)
  }
}

const sameKey = (a: Address, b: Address) =>
  a.protocol === b.protocol && Buffer.from(a.payload).equals(Buffer.from(b.payload))
