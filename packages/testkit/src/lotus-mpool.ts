// MpoolPush's checks in Lotus' order and words (chain/messagepool/messagepool.go checkMessage,
// addTs, checkBalance, msgSet.add): size, block-inclusion validity, fee cap floor, the signature
// (it must recover to From), the nonce, the gas limit's floor, the funds, then the nonce against
// what is already pending (a replacement must raise the premium enough).
import {
  type Address,
  encodeSignedMessage,
  formatAddress,
  formatFil,
  messageCid,
  type SignedMessage,
  signedMessageCid,
  verifySignature
} from '@autoretrieve/chain'
import type { CID } from 'multiformats/cid'
import type { Chain } from './lotus-chain.ts'
import {
  BASE_FEE,
  BLOCK_GAS_LIMIT,
  MAX_ACTOR_PENDING_MESSAGES,
  MAX_MESSAGE_SIZE,
  RBF_PERCENT,
  TOTAL_FILECOIN
} from './lotus-constants.ts'
import { RpcError } from './lotus-errors.ts'
import { onChainGas } from './lotus-gas.ts'

export interface Pending {
  sm: SignedMessage
  cid: CID
  /** Bytes of the signed message (what its on-chain gas is charged for). */
  size: number
}

export function validatePush(chain: Chain, sm: SignedMessage): { pending: Pending; replaces?: Pending } {
  const m = sm.message
  const size = encodeSignedMessage(sm).length
  const cid = signedMessageCid(sm)
  if (size > MAX_MESSAGE_SIZE) throw new RpcError(`mpool message too large (${size}B): message too big`)
  const invalid = blockInclusionError(m)
  if (invalid !== undefined) throw new RpcError(`message not valid for block inclusion: ${invalid}`)
  if (m.gasFeeCap < BASE_FEE) throw new RpcError('gas fee cap too low')

  // The signature must be the sender's key signing the unsigned message's CID.
  const key = keyAddress(chain, m.from)
  if (key === undefined) throw new RpcError(`sender actor ${formatAddress(m.from)} is not a valid top-level sender`)
  if (sm.signature.type !== 1 || !verifySignature(sm.signature, messageCid(m).bytes, key)) {
    throw new RpcError(
      `signature verification failed: failed to validate signature: invalid signature for message ${cid} (type ${sm.signature.type}): signature did not match`
    )
  }

  const stateNonce = chain.state.get(m.from)?.nonce ?? 0n
  if (stateNonce > m.nonce) {
    throw new RpcError(`minimum expected nonce is ${stateNonce}, got ${m.nonce}: message nonce too low`)
  }
  const minGas = onChainGas(size)
  if (m.gasLimit < minGas) {
    throw new RpcError(
      `verify msg failed: message will not be included in a block: 'GasLimit' field cannot be less than the cost of storing a message on chain ${m.gasLimit} < ${minGas}`
    )
  }

  // Lotus checks gas only and lets a short Value fail on chain; the stand-in refuses it here.
  const balance = chain.state.balanceOf(m.from)
  const required = m.gasLimit * m.gasFeeCap + m.value
  if (balance < required) {
    throw new RpcError(
      `failed to check balance: not enough funds (required: ${formatFil(required)}, balance: ${formatFil(balance)}): not enough funds to execute transaction`
    )
  }
  const pending = chain.pendingFrom(m.from)
  const others = pending.filter((p) => p.sm.message.nonce !== m.nonce)
  const withPending = others.reduce(
    (sum, p) => sum + p.sm.message.gasLimit * p.sm.message.gasFeeCap + p.sm.message.value,
    required
  )
  if (balance < withPending) {
    throw new RpcError(
      `failed to check balance: not enough funds including pending messages (required: ${formatFil(withPending)}, balance: ${formatFil(balance)}): validation failure`
    )
  }

  const next = stateNonce + BigInt(pending.length)
  const entry: Pending = { sm, cid, size }
  if (m.nonce === next) {
    if (pending.length >= MAX_ACTOR_PENDING_MESSAGES) {
      throw new RpcError('failed to add locked: too many pending messages for actor')
    }
    return { pending: entry }
  }
  if (m.nonce > next) {
    throw new RpcError(
      `failed to add locked: message nonce has too big a gap from expected nonce (Nonce: ${m.nonce}, nextNonce: ${next}): unfulfilled nonce gap`
    )
  }
  const existing = pending.find((p) => p.sm.message.nonce === m.nonce) as Pending
  const from = formatAddress(m.from)
  if (existing.cid.equals(cid)) {
    throw new RpcError(
      `failed to add locked: message from ${from} with nonce ${m.nonce} already in mpool: message with nonce already exists`
    )
  }
  const minPremium = (existing.sm.message.gasPremium * RBF_PERCENT) / 100n + 1n
  if (m.gasPremium < minPremium) {
    throw new RpcError(
      `failed to add locked: message from ${from} with nonce ${m.nonce} already in mpool, increase GasPremium to ${minPremium} from ${m.gasPremium} to trigger replace by fee: replace by fee has too low GasPremium`
    )
  }
  return { pending: entry, replaces: existing }
}

/** The sender's key address: From itself (f1, f3), or the key of the account an f0 names. */
function keyAddress(chain: Chain, from: Address): Address | undefined {
  if (from.protocol === 1 || from.protocol === 3) return from
  const actor = chain.state.get(from)
  return actor?.kind === 'account' ? actor.robust : undefined
}

/** Message.ValidForBlockInclusion(0): the field checks, worded as Lotus words them. */
function blockInclusionError(m: SignedMessage['message']): string | undefined {
  if (m.version !== 0) return "'Version' unsupported"
  if (m.to.protocol > 4) return "invalid 'To' address"
  if (m.value < 0n) return "'Value' field cannot be negative"
  if (m.value > TOTAL_FILECOIN) return "'Value' field cannot be greater than total filecoin supply"
  if (m.gasFeeCap < 0n) return "'GasFeeCap' field cannot be negative"
  if (m.gasPremium < 0n) return "'GasPremium' field cannot be negative"
  if (m.gasPremium > m.gasFeeCap) return "'GasFeeCap' less than 'GasPremium'"
  if (m.gasLimit > BLOCK_GAS_LIMIT) {
    return `'GasLimit' field cannot be greater than a block's gas limit (${m.gasLimit} > ${BLOCK_GAS_LIMIT})`
  }
  if (m.gasLimit <= 0n) return `'GasLimit' field ${m.gasLimit} must be positive`
  return undefined
}
