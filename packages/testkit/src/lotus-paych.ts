// The payment channel actor's methods as builtin-actors actors/paych/src/lib.rs runs them:
// UpdateChannelState (From or To calls it with a voucher signed by the other party), Settle and
// Collect, with the same checks in the same order, the same exit codes and the same messages.
import {
  decodeUpdateChannelStateParams,
  formatAddress,
  type SignedVoucher,
  verifySignature,
  voucherSigningBytes
} from '@autoretrieve/chain'
import { blake2b } from '@noble/hashes/blake2.js'
import { ExitCode, MAX_LANE, MAX_SECRET_SIZE } from './lotus-constants.ts'
import { ActorError } from './lotus-errors.ts'
import { type Actor, idString, type PaychState } from './lotus-state.ts'
import type { CallContext } from './lotus-vm.ts'

export interface PaychCall {
  ctx: CallContext
  channel: Actor
  caller: Actor
}

const EMPTY = new Uint8Array(0)

function stateOf(p: PaychCall): PaychState {
  const st = p.channel.paych
  if (st === undefined) throw new ActorError(ExitCode.ErrIllegalState, 'payment channel has no state')
  // validate_immediate_caller_is([from, to])
  if (p.caller.id !== st.from && p.caller.id !== st.to) {
    throw new ActorError(ExitCode.ErrForbidden, `caller ${idString(p.caller.id)} is not one of supported`)
  }
  return st
}

const illegal = (message: string) => new ActorError(ExitCode.ErrIllegalArgument, message)

export function updateChannelState(p: PaychCall, params: Uint8Array): Uint8Array {
  let sv: SignedVoucher
  let secret: Uint8Array
  try {
    ;({ sv, secret } = decodeUpdateChannelStateParams(params))
  } catch (cause) {
    throw new ActorError(ExitCode.ErrSerialization, `failed to decode parameters: ${(cause as Error).message}`)
  }
  const st = stateOf(p)
  const { epoch, state } = p.ctx
  // The signer is the party that did not send the message.
  const signer = state.byId(p.caller.id === st.from ? st.to : st.from)
  if (sv.signature === null) throw illegal('voucher has no signature')
  if (st.settlingAt !== 0n && epoch >= st.settlingAt) {
    throw new ActorError(
      ExitCode.ErrChannelStateUpdateAfterSettled,
      'no vouchers can be processed after settling at epoch'
    )
  }
  if (secret.length > MAX_SECRET_SIZE) throw illegal('secret must be at most 256 bytes long')
  // The signer's account actor authenticates the signing bytes against its key address.
  const key = signer?.robust
  if (key === undefined || !verifySignature(sv.signature, voucherSigningBytes(sv), key)) {
    throw illegal(
      `proposal authentication failed: signature verification failed: voucher not signed by ${key === undefined ? 'the other party' : formatAddress(key)}`
    )
  }
  const target = state.get(sv.channelAddr)
  if (target === undefined) {
    throw illegal(`voucher payment channel address ${formatAddress(sv.channelAddr)} does not resolve to an ID address`)
  }
  if (target.id !== p.channel.id) {
    throw illegal(`voucher payment channel address ${target.id} does not match receiver ${idString(p.channel.id)}`)
  }
  if (epoch < sv.timeLockMin) throw illegal('cannot use this voucher yet')
  if (sv.timeLockMax !== 0n && epoch > sv.timeLockMax) throw illegal('this voucher has expired')
  if (sv.amount < 0n) throw illegal(`voucher amount must be non-negative, was ${sv.amount}`)
  if (sv.secretHash.length > 0) {
    const hashed = blake2b(secret, { dkLen: 32 })
    if (Buffer.compare(Buffer.from(hashed), Buffer.from(sv.secretHash)) !== 0) throw illegal('incorrect secret')
  }
  if (sv.extra !== null) {
    // Extra names an actor method to call; the stand-in runs no such actor code.
    throw illegal(`spend voucher verification failed: actor ${formatAddress(sv.extra.actor)} not found`)
  }
  const findLane = (lane: bigint) => {
    if (lane > MAX_LANE) throw illegal('maximum lane ID is 2^63-1')
    return st.lanes.get(lane)
  }
  const existing = findLane(sv.lane)
  if (existing !== undefined && existing.nonce >= sv.nonce) {
    throw illegal(`voucher has an outdated nonce, existing: ${existing.nonce}, voucher: ${sv.nonce}, cannot redeem`)
  }
  const laneState = existing === undefined ? { redeemed: 0n, nonce: 0n } : { ...existing }
  let redeemedFromOthers = 0n
  for (const merge of sv.merges) {
    if (merge.lane === sv.lane) throw illegal("voucher cannot merge lanes into it's own lane")
    const other = findLane(merge.lane)
    if (other === undefined) throw illegal(`voucher specifies invalid merge lane ${merge.lane}`)
    if (other.nonce >= merge.nonce) throw illegal('merged lane in voucher has outdated nonce, cannot redeem')
    redeemedFromOthers += other.redeemed
    st.lanes.set(merge.lane, { ...other, nonce: merge.nonce })
  }
  laneState.nonce = sv.nonce
  const balanceDelta = sv.amount - (redeemedFromOthers + laneState.redeemed)
  laneState.redeemed = sv.amount
  const newSendBalance = balanceDelta + st.toSend
  if (newSendBalance < 0n) throw illegal('voucher would leave channel balance negative')
  if (newSendBalance > p.channel.balance) throw illegal('not enough funds in channel to cover voucher')
  st.toSend = newSendBalance
  if (sv.minSettleHeight !== 0n) {
    if (st.settlingAt !== 0n && st.settlingAt < sv.minSettleHeight) st.settlingAt = sv.minSettleHeight
    if (st.minSettleHeight < sv.minSettleHeight) st.minSettleHeight = sv.minSettleHeight
  }
  st.lanes.set(sv.lane, laneState)
  return EMPTY
}

export function settle(p: PaychCall): Uint8Array {
  const st = stateOf(p)
  if (st.settlingAt !== 0n) throw new ActorError(ExitCode.ErrIllegalState, 'channel already settling')
  st.settlingAt = p.ctx.epoch + p.ctx.settleDelayEpochs
  if (st.settlingAt < st.minSettleHeight) st.settlingAt = st.minSettleHeight
  return EMPTY
}

export function collect(p: PaychCall): Uint8Array {
  const st = stateOf(p)
  if (st.settlingAt === 0n || p.ctx.epoch < st.settlingAt) {
    throw new ActorError(ExitCode.ErrForbidden, 'payment channel not settling or settled')
  }
  const { state } = p.ctx
  const to = state.byId(st.to)
  const from = state.byId(st.from)
  if (to === undefined || from === undefined) {
    throw new ActorError(ExitCode.ErrIllegalState, 'payment channel party has no actor')
  }
  // ToSend to `to`, whatever is left back to `from`, then the actor is gone.
  p.channel.balance -= st.toSend
  to.balance += st.toSend
  from.balance += p.channel.balance
  p.channel.balance = 0n
  state.delete(p.channel)
  return EMPTY
}
