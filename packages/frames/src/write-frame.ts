import { Uint8ArrayList } from 'uint8arraylist'

/** An unsigned varint (LEB128), as multiformats and protobuf write lengths. */
export function uvarintBytes(n: number): Uint8Array {
  const out: number[] = []
  let v = n
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return Uint8Array.from(out)
}

/** One message as it goes on a stream: its length as an unsigned varint, then the payload (not copied). */
export function encodeFrame(payload: Uint8Array | Uint8ArrayList): Uint8ArrayList {
  const out = new Uint8ArrayList(uvarintBytes(payload.byteLength))
  out.append(payload)
  return out
}
