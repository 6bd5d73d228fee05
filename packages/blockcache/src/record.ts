/**
 * The block log's record format (log.ts tells the whole story): a 20-byte little-endian header,
 * the key (a multihash), then for a block its bytes.
 *
 *   u32 magic | u8 kind | u8 0 | u16 key length | u32 data length | f64 time | key | data
 *
 * Plain functions over buffers, no I/O.
 */

const RECORD_MAGIC = 0x31425241 // "ARB1" read little-endian
export const HEADER_BYTES = 20
/** A multihash is a few dozen bytes; a longer key is damage, not a record. */
export const MAX_KEY_BYTES = 1024

export const RecordKind = { block: 1, touch: 2, drop: 3 } as const
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind]

/** Where a block's bytes are: a segment and the offset of the data (past header and key). */
export interface Location {
  segment: number
  offset: number
}

/** Where an appended record's data went, and the record's whole size on disk. */
export interface Appended extends Location {
  span: number
}

export interface ScannedRecord extends Location {
  kind: RecordKind
  key: Uint8Array
  time: number
  /** Data length (0 for touch and drop records). */
  size: number
  /** The whole record on disk: header, key and data. */
  span: number
}

/** A header read back: what follows it, and when it was written. */
export interface RecordHeader {
  kind: RecordKind
  keyLength: number
  dataLength: number
  time: number
}

/** The bytes a record takes on disk. */
export function recordSpan(keyLength: number, dataLength: number): number {
  return HEADER_BYTES + keyLength + dataLength
}

export function isStorableKey(key: Uint8Array): boolean {
  return key.byteLength > 0 && key.byteLength <= MAX_KEY_BYTES
}

/** A record's header followed by its key: everything but the data, which is written from its own buffer. */
export function encodeHead(kind: RecordKind, key: Uint8Array, dataLength: number, time: number): Buffer {
  const head = Buffer.allocUnsafe(HEADER_BYTES + key.byteLength)
  head.writeUInt32LE(RECORD_MAGIC, 0)
  head.writeUInt8(kind, 4)
  head.writeUInt8(0, 5)
  head.writeUInt16LE(key.byteLength, 6)
  head.writeUInt32LE(dataLength, 8)
  head.writeDoubleLE(time, 12)
  head.set(key, HEADER_BYTES)
  return head
}

/** The header in the first HEADER_BYTES of `bytes`, or undefined where there is no valid one (damage). */
export function decodeHeader(bytes: Buffer): RecordHeader | undefined {
  const magic = bytes.readUInt32LE(0)
  const kind = bytes.readUInt8(4)
  const keyLength = bytes.readUInt16LE(6)
  if (magic !== RECORD_MAGIC || !isRecordKind(kind) || keyLength === 0 || keyLength > MAX_KEY_BYTES) return undefined
  return { kind, keyLength, dataLength: bytes.readUInt32LE(8), time: bytes.readDoubleLE(12) }
}

function isRecordKind(kind: number): kind is RecordKind {
  return kind === RecordKind.block || kind === RecordKind.touch || kind === RecordKind.drop
}
