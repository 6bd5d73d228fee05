// What a message does once it is on chain: the value moves, then the receiving actor's method runs
// (an account takes only plain sends, the init actor execs payment channels, a payment channel
// takes the three paych methods). An actor error carries the exit code builtin-actors would give.
import {
  type Address,
  actorAddress,
  addressToBytes,
  BuiltinMethod,
  decodeInitExecParams,
  decodePaychConstructorParams,
  encodeExecReturn,
  formatAddress,
  idAddress
} from '@autoretrieve/chain'
import * as dagCbor from '@ipld/dag-cbor'
import { ACTOR_CODE_CIDS, ExitCode, METHOD_GAS } from './lotus-constants.ts'
import { ActorError } from './lotus-errors.ts'
import { collect, settle, updateChannelState } from './lotus-paych.ts'
import type { Actor, StateTree } from './lotus-state.ts'

/** What a call runs against: the state, the epoch, and what new actor addresses derive from. */
export interface CallContext {
  state: StateTree
  epoch: bigint
  settleDelayEpochs: bigint
  /** The message's From as written (ref-fvm's origin_address, which new actor addresses derive from). */
  origin: Address
  originNonce: bigint
  /** Actors created so far by this message (NewActorAddress' third input). */
  actorsCreated: bigint
  /** Gas the called methods used beyond the message's own on-chain cost. */
  gas: bigint
}

export interface Call {
  caller: Actor
  to: Address
  value: bigint
  method: bigint
  params: Uint8Array
}

/** Sends value and runs the receiver's method; returns the method's return bytes. */
export function send(ctx: CallContext, call: Call): Uint8Array {
  const receiver = ctx.state.getOrCreate(call.to)
  if (receiver === undefined) {
    throw new ActorError(ExitCode.SysErrInvalidReceiver, `actor ${formatAddress(call.to)} not found`)
  }
  if (call.caller.balance < call.value) {
    throw new ActorError(
      ExitCode.SysErrInsufficientFunds,
      `not enough funds to send ${call.value} attoFIL (balance ${call.caller.balance})`
    )
  }
  call.caller.balance -= call.value
  receiver.balance += call.value
  if (call.method === BuiltinMethod.Send) return new Uint8Array(0)
  const unhandled = () =>
    new ActorError(ExitCode.ErrUnhandledMessage, `${receiver.kind} actor has no method ${call.method}`)
  switch (receiver.kind) {
    case 'account':
      throw unhandled()
    case 'init':
      if (call.method !== BuiltinMethod.InitExec) throw unhandled()
      ctx.gas += METHOD_GAS.initExec
      return exec(ctx, receiver, call.params, call.value)
    case 'paymentchannel': {
      const paych = { ctx, channel: receiver, caller: call.caller }
      switch (call.method) {
        case BuiltinMethod.PaychUpdateChannelState:
          ctx.gas += METHOD_GAS.updateChannelState
          return updateChannelState(paych, call.params)
        case BuiltinMethod.PaychSettle:
          ctx.gas += METHOD_GAS.settle
          return settle(paych)
        case BuiltinMethod.PaychCollect:
          ctx.gas += METHOD_GAS.collect
          return collect(paych)
        case BuiltinMethod.PaychConstructor:
          throw new ActorError(ExitCode.ErrForbidden, `caller ${callerString(call.caller)} is not the init actor`)
        default:
          throw unhandled()
      }
    }
  }
}

const callerString = (a: Actor) => formatAddress(idAddress(a.id))

/**
 * Init actor Exec: only payment channels (the stand-in runs no multisig). The robust address is
 * what ref-fvm's next_actor_address computes: f2 of CBOR(the message's From) ++ its nonce
 * (uint64 big-endian) ++ actors created so far by this message (uint64 big-endian).
 */
function exec(ctx: CallContext, init: Actor, params: Uint8Array, value: bigint): Uint8Array {
  let p: ReturnType<typeof decodeInitExecParams>
  try {
    p = decodeInitExecParams(params)
  } catch (cause) {
    throw new ActorError(ExitCode.ErrSerialization, `failed to decode exec params: ${(cause as Error).message}`)
  }
  const code = p.codeCid.toString()
  if (code !== ACTOR_CODE_CIDS.paymentchannel) {
    throw new ActorError(ExitCode.ErrForbidden, `called type ${ACTOR_CODE_CIDS.account} cannot exec actor type ${code}`)
  }
  const seed = new Uint8Array([
    ...dagCbor.encode(addressToBytes(ctx.origin)),
    ...be64(ctx.originNonce),
    ...be64(ctx.actorsCreated)
  ])
  ctx.actorsCreated++
  const robust = actorAddress(seed)
  const channel = ctx.state.create('paymentchannel', robust, 0n)
  // Constructor (called by the init actor with the message's value).
  let c: ReturnType<typeof decodePaychConstructorParams>
  try {
    c = decodePaychConstructorParams(p.constructorParams)
  } catch (cause) {
    throw new ActorError(ExitCode.ErrSerialization, `constructor failed: ${(cause as Error).message}`)
  }
  const party = (a: Address, which: string) => {
    const actor = ctx.state.getOrCreate(a)
    if (actor === undefined) {
      throw new ActorError(
        ExitCode.ErrIllegalArgument,
        `constructor failed: failed to resolve ${which} address ${formatAddress(a)}`
      )
    }
    return actor.id
  }
  const to = party(c.to, 'to')
  const from = party(c.from, 'from')
  channel.paych = { from, to, toSend: 0n, settlingAt: 0n, minSettleHeight: 0n, lanes: new Map() }
  // The init actor passes the value it received on to the new actor.
  init.balance -= value
  channel.balance += value
  return encodeExecReturn({ idAddress: idAddress(channel.id), robustAddress: robust })
}

function be64(n: bigint): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, n)
  return out
}
