// The node side of vouchers, as Lotus' paychmgr runs it for a provider: PaychVoucherCheckValid
// checks a voucher against the channel's on-chain lanes overlaid with the vouchers this node has
// already accepted (PaychVoucherAdd), so a voucher reusing a nonce is refused even before it ever
// reaches the chain: what catches a client that forgets its nonces across a restart.
import {
  type Address,
  addressEquals,
  encodeSignedVoucher,
  formatAddress,
  type SignedVoucher,
  verifySignature,
  voucherSigningBytes
} from '@autoretrieve/chain'
import { RpcError } from './lotus-errors.ts'
import type { Actor, LaneState, StateTree } from './lotus-state.ts'

export class VoucherStore {
  /** Accepted vouchers per channel actor ID, in the order they were added. */
  private readonly added = new Map<bigint, SignedVoucher[]>()

  private readonly state: () => StateTree

  constructor(state: () => StateTree) {
    this.state = state
  }

  /** PaychVoucherCheckValid: throws what Lotus answers for an unusable voucher. */
  check(ch: Address, sv: SignedVoucher): { channel: Actor; lanes: Map<bigint, LaneState> } {
    if (!addressEquals(sv.channelAddr, ch)) {
      throw new RpcError(
        `voucher ChannelAddr doesn't match channel address, got ${formatAddress(sv.channelAddr)}, expected ${formatAddress(ch)}`
      )
    }
    if (sv.extra !== null) throw new RpcError('voucher is Message Locked')
    if (sv.timeLockMax !== 0n) throw new RpcError('voucher is Max Time Locked')
    if (sv.timeLockMin !== 0n) throw new RpcError('voucher is Min Time Locked')
    if (sv.secretHash.length !== 0) throw new RpcError('voucher is Hash Locked')
    const state = this.state()
    const channel = state.get(ch)
    if (channel?.paych === undefined) {
      const a = formatAddress(ch)
      throw new RpcError(
        channel === undefined
          ? `resolution lookup failed (${a}): resolve address ${a}: actor not found`
          : `actor ${a} is not a payment channel`
      )
    }
    const from = state.byId(channel.paych.from)?.robust
    if (sv.signature === null) throw new RpcError('signature is nil')
    if (from === undefined || !verifySignature(sv.signature, voucherSigningBytes(sv), from)) {
      throw new RpcError('signature did not match')
    }
    const lanes = this.lanes(channel)
    const lane = lanes.get(sv.lane)
    if (lane !== undefined) {
      if (sv.nonce <= lane.nonce) throw new RpcError('nonce too low')
      if (sv.amount <= lane.redeemed) {
        throw new RpcError('voucher amount is lower than amount for voucher with lower nonce')
      }
    }
    if (sv.merges.length !== 0) throw new RpcError("don't currently support paych lane merges")
    let total = 0n
    for (const l of lanes.values()) total += l.redeemed
    total += lane === undefined ? sv.amount : sv.amount - lane.redeemed
    if (channel.balance < total) {
      throw new RpcError(`not enough funds in channel to cover voucher - shortfall: ${total - channel.balance}`)
    }
    return { channel, lanes }
  }

  /** PaychVoucherAdd (AddVoucherInbound): checks, then keeps the voucher; returns the delta it adds. */
  add(ch: Address, sv: SignedVoucher, proof: Uint8Array, minDelta: bigint): bigint {
    if (proof.length > 0) throw new RpcError('payment channel proof parameter is not supported')
    const encoded = Buffer.from(encodeSignedVoucher(sv))
    const known = this.state().get(ch)
    if (known !== undefined) {
      for (const v of this.added.get(known.id) ?? []) {
        if (encoded.equals(encodeSignedVoucher(v))) return 0n // re-added: ignored, as Lotus does
      }
    }
    const { channel, lanes } = this.check(ch, sv)
    const redeemed = lanes.get(sv.lane)?.redeemed ?? 0n
    const delta = sv.amount - redeemed
    if (minDelta > delta) {
      throw new RpcError(
        `addVoucher: supplied token amount too low; minD=${minDelta}, D=${delta}; laneAmt=${redeemed}; v.Amt=${sv.amount}`
      )
    }
    const list = this.added.get(channel.id) ?? []
    list.push(sv)
    this.added.set(channel.id, list)
    return delta
  }

  /** The chain's lane states with the accepted vouchers applied over them (paychmgr laneState). */
  private lanes(channel: Actor): Map<bigint, LaneState> {
    const lanes = new Map<bigint, LaneState>()
    for (const [lane, s] of channel.paych?.lanes ?? []) lanes.set(lane, { ...s })
    for (const v of this.added.get(channel.id) ?? []) {
      const onChain = lanes.get(v.lane)
      if (onChain !== undefined && v.nonce < onChain.nonce) continue
      lanes.set(v.lane, { redeemed: v.amount, nonce: v.nonce })
    }
    return lanes
  }
}
