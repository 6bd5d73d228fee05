// The cbor-gen tuple encoding Filecoin's chain types use, on top of DAG-CBOR: structs are arrays
// in field order, addresses and signatures are byte strings of their byte forms, token amounts
// are big-int bytes. The readers name the structure and field on any mismatch.
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { addressFromBytes } from './address.ts'
import { decodeBigIntBytes } from './big-int.ts'
import { MalformedChainDataError } from './errors.ts'
import { signatureFromBytes } from './keys.ts'

const MAX_UINT64 = (1n << 64n) - 1n
const MIN_INT64 = -(1n << 63n)
const MAX_INT64 = (1n << 63n) - 1n

export function encodeCbor(value: unknown): Uint8Array {
  return dagCbor.encode(value)
}

/** Decodes exactly one CBOR value, or throws {@link MalformedChainDataError} naming `what`. */
export function decodeCbor(bytes: Uint8Array, what: string): unknown {
  if (!(bytes instanceof Uint8Array)) throw new MalformedChainDataError(`${what}: not bytes`)
  try {
    return dagCbor.decode(bytes)
  } catch (cause) {
    throw new MalformedChainDataError(`${what}: not CBOR (${(cause as Error).message})`, { cause })
  }
}

export function readTuple(value: unknown, length: number, where: string): unknown[] {
  if (!Array.isArray(value)) throw new MalformedChainDataError(`${where}: not a CBOR array`)
  if (value.length !== length)
    throw new MalformedChainDataError(`${where}: array has ${value.length} fields, not ${length}`)
  return value
}

export function readBytes(value: unknown, where: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new MalformedChainDataError(`${where}: not a byte string`)
  return value
}

function readInteger(value: unknown, min: bigint, max: bigint, where: string): bigint {
  if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isInteger(value)))
    throw new MalformedChainDataError(`${where}: not an integer`)
  const n = BigInt(value)
  if (n < min || n > max) throw new MalformedChainDataError(`${where}: ${n} is out of range`)
  return n
}

export const readUint64 = (value: unknown, where: string): bigint => readInteger(value, 0n, MAX_UINT64, where)
export const readInt64 = (value: unknown, where: string): bigint => readInteger(value, MIN_INT64, MAX_INT64, where)

/** Checks a bigint fits the Go field it goes to before encoding. */
export function checkRange(value: bigint, kind: 'uint64' | 'int64', where: string): bigint {
  const [min, max] = kind === 'uint64' ? [0n, MAX_UINT64] : [MIN_INT64, MAX_INT64]
  if (typeof value !== 'bigint' || value < min || value > max)
    throw new MalformedChainDataError(`${where}: ${value} is not a ${kind}`)
  return value
}

/** A reader of a byte string parsed by `parse`, its failure a MalformedChainDataError naming `where`. */
function bytesReader<T>(parse: (bytes: Uint8Array) => T): (value: unknown, where: string) => T {
  return (value, where) => {
    try {
      return parse(readBytes(value, where))
    } catch (cause) {
      if (cause instanceof MalformedChainDataError) throw cause
      throw new MalformedChainDataError(`${where}: ${(cause as Error).message}`, { cause })
    }
  }
}

export const readTokenAmount = bytesReader(decodeBigIntBytes)
export const readAddress = bytesReader(addressFromBytes)
export const readSignature = bytesReader(signatureFromBytes)

export function readCid(value: unknown, where: string): CID {
  const cid = CID.asCID(value)
  if (cid === null) throw new MalformedChainDataError(`${where}: not a CID`)
  return cid
}
