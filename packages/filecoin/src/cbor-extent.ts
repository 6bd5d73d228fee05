// Finds where one CBOR data item ends without decoding it, resumably over a growing buffer, so a
// stream reader can tell "not all here yet" from "malformed" and bound what it buffers.
import { MalformedTransferMessageError, TransferMessageTooLargeError } from './errors.ts'

/** Scan position: `pos` is past every header read so far, `pending` counts items still to read. */
export interface ExtentState {
  pos: number
  pending: number
}

export function newExtentState(): ExtentState {
  return { pos: 0, pending: 1 }
}

/**
 * Advances `state` over `buf` (which only ever grows at the end between calls) and returns the
 * item's length once it is complete, or undefined when more bytes are needed. Throws
 * TransferMessageTooLargeError when the item is declared longer than `max` bytes and
 * MalformedTransferMessageError on headers DAG-CBOR does not allow.
 */
export function cborExtent(buf: Uint8Array, state: ExtentState, max: number): number | undefined {
  while (state.pending > 0) {
    if (state.pos >= buf.length) return undefined
    const initial = buf[state.pos]
    const major = initial >> 5
    const minor = initial & 0x1f
    let headerLength = 1
    let arg: number
    if (minor < 24) {
      arg = minor
    } else if (minor <= 27) {
      const size = 1 << (minor - 24)
      if (state.pos + 1 + size > buf.length) return undefined
      let value = 0n
      for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(buf[state.pos + 1 + i])
      headerLength += size
      // Lengths and counts past `max` cannot fit (every item is at least one byte); other
      // integers (major 0, 1, 7, tags) only need their header.
      arg = value > BigInt(max) ? Number.POSITIVE_INFINITY : Number(value)
    } else {
      throw new MalformedTransferMessageError(
        `not DAG-CBOR: ${minor === 31 ? 'indefinite length' : `reserved additional info ${minor}`} at byte ${state.pos}`
      )
    }
    state.pos += headerLength
    state.pending -= 1
    switch (major) {
      case 2: // bytes
      case 3: // text
        state.pos += arg
        break
      case 4: // list
        state.pending += arg
        break
      case 5: // map
        state.pending += 2 * arg
        break
      case 6: // tag
        state.pending += 1
        break
      default: // integers, simple values and floats: the header is all
        break
    }
    if (state.pos > max || state.pos + state.pending > max) {
      throw new TransferMessageTooLargeError(`a data-transfer message is larger than ${max} bytes`)
    }
  }
  return state.pos <= buf.length ? state.pos : undefined
}
