// Gas arithmetic as Lotus does it: the on-chain cost every message pays (chain/vm/gas.go), how
// GasEstimateMessageGas fills the fields (node/impl/full/gas.go), and what the sender pays in the
// end (chain/vm/burn.go ComputeGasOutputs): base fee burn, miner tip and the overestimation burn.
import {
  BASE_FEE,
  DEFAULT_MAX_FEE,
  FEE_CAP_BASE_MULTIPLE,
  GAS_LIMIT_OVERESTIMATION_PERCENT,
  GAS_PREMIUM,
  ON_CHAIN_MESSAGE_COMPUTE,
  ON_CHAIN_MESSAGE_STORAGE_BASE,
  STORAGE_GAS_MULTI
} from './lotus-constants.ts'

/** Gas for carrying a signed message of `size` bytes on chain (pricelist OnChainMessage). */
export const onChainGas = (size: number) =>
  ON_CHAIN_MESSAGE_COMPUTE + (ON_CHAIN_MESSAGE_STORAGE_BASE + BigInt(size)) * STORAGE_GAS_MULTI

export interface GasFields {
  gasLimit: bigint
  gasFeeCap: bigint
  gasPremium: bigint
}

/** Fills the zero gas fields from the gas a dry run used, then caps the fee at maxFee (capGasFee). */
export function estimateGas(m: GasFields, gasUsed: () => bigint, maxFee: bigint): GasFields {
  const gasLimit = m.gasLimit === 0n ? (gasUsed() * GAS_LIMIT_OVERESTIMATION_PERCENT) / 100n : m.gasLimit
  let gasPremium = m.gasPremium === 0n ? GAS_PREMIUM : m.gasPremium
  let gasFeeCap = m.gasFeeCap === 0n ? BASE_FEE * FEE_CAP_BASE_MULTIPLE + gasPremium : m.gasFeeCap
  const cap = maxFee === 0n ? DEFAULT_MAX_FEE : maxFee
  if (gasLimit > 0n && gasFeeCap * gasLimit > cap) {
    gasFeeCap = cap / gasLimit
    if (gasPremium > gasFeeCap) gasPremium = gasFeeCap
  }
  return { gasLimit, gasFeeCap, gasPremium }
}

/** attoFIL the sender pays for a message that used `gasUsed` (the rest of gasLimit * feeCap is refunded). */
export function gasCharge(m: GasFields, gasUsed: bigint): bigint {
  let baseFee = BASE_FEE
  if (m.gasFeeCap < baseFee) baseFee = m.gasFeeCap
  const baseFeeBurn = baseFee * gasUsed
  const tipPerGas = baseFee + m.gasPremium > m.gasFeeCap ? m.gasFeeCap - baseFee : m.gasPremium
  const minerTip = tipPerGas * m.gasLimit
  return baseFeeBurn + minerTip + baseFee * overestimationBurn(gasUsed, m.gasLimit)
}

/** Gas burned for asking far more than used (ComputeGasOverestimationBurn): none up to 110%. */
function overestimationBurn(gasUsed: bigint, gasLimit: bigint): bigint {
  if (gasUsed === 0n) return gasLimit
  let over = gasLimit - (11n * gasUsed) / 10n
  if (over < 0n) return 0n
  if (over > gasUsed) over = gasUsed
  return (over * (gasLimit - gasUsed)) / gasUsed
}
