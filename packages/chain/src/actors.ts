// Parameters and return values of the built-in actor methods a paying client calls: the init
// actor's Exec (which creates a payment channel) and the payment channel actor's methods.
import type { CID } from 'multiformats/cid'
import { type Address, addressToBytes, idAddress } from './address.ts'
import { decodeCbor, encodeCbor, readAddress, readBytes, readCid, readTuple } from './cbor.ts'
import { type SignedVoucher, signedVoucherFromNode, signedVoucherToNode } from './voucher.ts'

/** Method numbers (builtin.MethodSend, builtin.MethodsInit.Exec, builtin.MethodsPaych.*). */
export const BuiltinMethod = {
  Send: 0n,
  InitExec: 2n,
  PaychConstructor: 1n,
  PaychUpdateChannelState: 2n,
  PaychSettle: 3n,
  PaychCollect: 4n
} as const

/** The init actor, f01, which creates actors (payment channels among them). */
export const INIT_ACTOR: Address = idAddress(1n)

export interface InitExecParams {
  /** The actor code CID (Lotus StateActorCodeCIDs: `paymentchannel`). */
  codeCid: CID
  constructorParams: Uint8Array
}

export function encodeInitExecParams(p: InitExecParams): Uint8Array {
  return encodeCbor([p.codeCid, p.constructorParams])
}

export function decodeInitExecParams(bytes: Uint8Array): InitExecParams {
  const t = readTuple(decodeCbor(bytes, 'init exec params'), 2, 'init exec params')
  return {
    codeCid: readCid(t[0], 'init exec params CodeCID'),
    constructorParams: readBytes(t[1], 'init exec params ConstructorParams')
  }
}

/** What Exec returns: the new actor's ID address and its robust (f2) address. */
export interface ExecReturn {
  idAddress: Address
  robustAddress: Address
}

export function encodeExecReturn(r: ExecReturn): Uint8Array {
  return encodeCbor([addressToBytes(r.idAddress), addressToBytes(r.robustAddress)])
}

export function decodeExecReturn(bytes: Uint8Array): ExecReturn {
  const t = readTuple(decodeCbor(bytes, 'exec return'), 2, 'exec return')
  return {
    idAddress: readAddress(t[0], 'exec return IDAddress'),
    robustAddress: readAddress(t[1], 'exec return RobustAddress')
  }
}

/** The payment channel constructor's parameters: the payer (From) and the payee (To). */
export interface PaychConstructorParams {
  from: Address
  to: Address
}

export function encodePaychConstructorParams(p: PaychConstructorParams): Uint8Array {
  return encodeCbor([addressToBytes(p.from), addressToBytes(p.to)])
}

export function decodePaychConstructorParams(bytes: Uint8Array): PaychConstructorParams {
  const t = readTuple(decodeCbor(bytes, 'paych constructor params'), 2, 'paych constructor params')
  return {
    from: readAddress(t[0], 'paych constructor params From'),
    to: readAddress(t[1], 'paych constructor params To')
  }
}

/** UpdateChannelState's parameters: the voucher to redeem and the secret its SecretHash asks for. */
export interface UpdateChannelStateParams {
  sv: SignedVoucher
  secret: Uint8Array
}

export function encodeUpdateChannelStateParams(p: UpdateChannelStateParams): Uint8Array {
  return encodeCbor([signedVoucherToNode(p.sv), p.secret])
}

export function decodeUpdateChannelStateParams(bytes: Uint8Array): UpdateChannelStateParams {
  const t = readTuple(decodeCbor(bytes, 'update channel state params'), 2, 'update channel state params')
  return {
    sv: signedVoucherFromNode(t[0], 'update channel state params Sv'),
    secret: readBytes(t[1], 'update channel state params Secret')
  }
}
