import { createHash } from 'node:crypto'
import { uvarintBytes } from '@autoretrieve/frames'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import type { MultihashDigest } from 'multiformats/hashes/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { MalformedMessageError } from './errors.ts'

/** Message types of message.proto, as plain data. */
export const WantType = { Block: 0, Have: 1 } as const
export type WantType = (typeof WantType)[keyof typeof WantType]
export const PresenceType = { Have: 0, DontHave: 1 } as const
export type PresenceType = (typeof PresenceType)[keyof typeof PresenceType]

export interface WantEntry {
  /** Binary CID as sent (not parsed here: the server decides what to do with a bad one). */
  block: Uint8Array
  priority: number
  cancel: boolean
  wantType: WantType
  sendDontHave: boolean
}

export interface DecodedMessage {
  wantlist?: { entries: WantEntry[]; full: boolean }
  /** 1.0.0 raw blocks. */
  blocks: Uint8Array[]
  payload: Array<{ prefix: Uint8Array; data: Uint8Array }>
  blockPresences: Array<{ cid: Uint8Array; type: PresenceType }>
  pendingBytes: number
}

// --- reading -----------------------------------------------------------------------------------

class Reader {
  pos = 0
  readonly buf: Uint8Array
  readonly end: number
  constructor(buf: Uint8Array, start = 0, end = buf.byteLength) {
    this.buf = buf
    this.pos = start
    this.end = end
  }

  /** A varint as [low 32 bits, high bits]; rejects one longer than 10 bytes or past the end. */
  varint(): [number, number] {
    let lo = 0
    let hi = 0
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new MalformedMessageError('truncated varint')
      const b = this.buf[this.pos++]
      if (i < 4) lo |= (b & 0x7f) << (7 * i)
      else if (i === 4) {
        lo |= (b & 0x0f) << 28
        hi |= (b & 0x7f) >> 4
      } else hi |= (b & 0x7f) << (7 * i - 32)
      if ((b & 0x80) === 0) return [lo >>> 0, hi >>> 0]
    }
    throw new MalformedMessageError('varint longer than 10 bytes')
  }

  uint(): number {
    const [lo, hi] = this.varint()
    if (hi > 0x1fffff) throw new MalformedMessageError('integer out of range')
    return hi * 2 ** 32 + lo
  }

  int32(): number {
    return this.varint()[0] | 0
  }

  bool(): boolean {
    return this.uint() !== 0
  }

  bytes(): Uint8Array {
    const len = this.uint()
    if (len > this.end - this.pos) throw new MalformedMessageError('length-delimited field runs past the end')
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }

  sub(): Reader {
    const len = this.uint()
    if (len > this.end - this.pos) throw new MalformedMessageError('embedded message runs past the end')
    const r = new Reader(this.buf, this.pos, this.pos + len)
    this.pos += len
    return r
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint()
        return
      case 1:
        this.advance(8)
        return
      case 2:
        this.advance(this.uint())
        return
      case 5:
        this.advance(4)
        return
      default:
        throw new MalformedMessageError(`unsupported wire type ${wireType}`)
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new MalformedMessageError('field runs past the end')
    this.pos += n
  }

  *fields(): Generator<[number, number]> {
    while (this.pos < this.end) {
      const key = this.uint()
      const field = Math.floor(key / 8)
      if (field === 0) throw new MalformedMessageError('field number 0')
      yield [field, key & 7]
    }
  }
}

function expect(wire: number, want: number, what: string): void {
  if (wire !== want) throw new MalformedMessageError(`${what}: wrong wire type ${wire}`)
}

function readEntry(r: Reader): WantEntry {
  const e: WantEntry = {
    block: new Uint8Array(0),
    priority: 0,
    cancel: false,
    wantType: WantType.Block,
    sendDontHave: false
  }
  for (const [field, wire] of r.fields()) {
    if (field === 1) {
      expect(wire, 2, 'entry.block')
      e.block = r.bytes()
    } else if (field === 2) {
      expect(wire, 0, 'entry.priority')
      e.priority = r.int32()
    } else if (field === 3) {
      expect(wire, 0, 'entry.cancel')
      e.cancel = r.bool()
    } else if (field === 4) {
      expect(wire, 0, 'entry.wantType')
      e.wantType = r.uint() === 1 ? WantType.Have : WantType.Block
    } else if (field === 5) {
      expect(wire, 0, 'entry.sendDontHave')
      e.sendDontHave = r.bool()
    } else r.skip(wire)
  }
  return e
}

/**
 * Decodes one Bitswap message. Byte fields are views into `buf` (no copies). `maxEntries` stops
 * a hostile wantlist from costing more than its cap: entries past it are counted, not kept.
 */
export function decodeMessage(
  buf: Uint8Array,
  opts: { maxEntries?: number } = {}
): DecodedMessage & { droppedEntries: number } {
  const r = new Reader(buf)
  const msg: DecodedMessage & { droppedEntries: number } = {
    blocks: [],
    payload: [],
    blockPresences: [],
    pendingBytes: 0,
    droppedEntries: 0
  }
  const maxEntries = opts.maxEntries ?? Number.POSITIVE_INFINITY
  for (const [field, wire] of r.fields()) {
    if (field === 1) {
      expect(wire, 2, 'wantlist')
      const wl = r.sub()
      const wantlist = msg.wantlist ?? { entries: [], full: false }
      msg.wantlist = wantlist
      for (const [f, w] of wl.fields()) {
        if (f === 1) {
          expect(w, 2, 'wantlist.entries')
          const entry = readEntry(wl.sub())
          if (wantlist.entries.length < maxEntries) wantlist.entries.push(entry)
          else msg.droppedEntries++
        } else if (f === 2) {
          expect(w, 0, 'wantlist.full')
          wantlist.full = wl.bool()
        } else wl.skip(w)
      }
    } else if (field === 2) {
      expect(wire, 2, 'blocks')
      msg.blocks.push(r.bytes())
    } else if (field === 3) {
      expect(wire, 2, 'payload')
      const b = r.sub()
      const block: { prefix: Uint8Array; data: Uint8Array } = { prefix: new Uint8Array(0), data: new Uint8Array(0) }
      for (const [f, w] of b.fields()) {
        if (f === 1 && w === 2) block.prefix = b.bytes()
        else if (f === 2 && w === 2) block.data = b.bytes()
        else b.skip(w)
      }
      msg.payload.push(block)
    } else if (field === 4) {
      expect(wire, 2, 'blockPresences')
      const p = r.sub()
      const presence: { cid: Uint8Array; type: PresenceType } = { cid: new Uint8Array(0), type: PresenceType.Have }
      for (const [f, w] of p.fields()) {
        if (f === 1 && w === 2) presence.cid = p.bytes()
        else if (f === 2 && w === 0) presence.type = p.uint() === 1 ? PresenceType.DontHave : PresenceType.Have
        else p.skip(w)
      }
      msg.blockPresences.push(presence)
    } else if (field === 5) {
      expect(wire, 0, 'pendingBytes')
      msg.pendingBytes = r.int32()
    } else r.skip(wire)
  }
  return msg
}

// --- writing -----------------------------------------------------------------------------------

/** int32 as protobuf writes it: negatives are 10-byte sign-extended varints. */
function int32Bytes(n: number): Uint8Array {
  if (n >= 0) return uvarintBytes(n)
  const out = new Uint8Array(10)
  let lo = n >>> 0
  for (let i = 0; i < 4; i++) {
    out[i] = (lo & 0x7f) | 0x80
    lo >>>= 7
  }
  out[4] = (lo & 0x0f) | 0x70 | 0x80
  out.fill(0xff, 5, 9)
  out[9] = 0x01
  return out
}

const tag = (field: number, wire: number) => uvarintBytes(field * 8 + wire)

/** A length-delimited field whose body is a list of chunks (kept as views, not copied). */
function lenField(field: number, body: Uint8ArrayList): Uint8ArrayList {
  const out = new Uint8ArrayList(tag(field, 2), uvarintBytes(body.byteLength))
  out.append(body)
  return out
}

function bytesField(field: number, bytes: Uint8Array): Uint8ArrayList {
  return new Uint8ArrayList(tag(field, 2), uvarintBytes(bytes.byteLength), bytes)
}

/** The CID prefix of the Block message: version, codec, multihash code, digest length. */
export function cidPrefix(cid: CID): Uint8Array {
  return Uint8Array.from([
    ...uvarintBytes(cid.version),
    ...uvarintBytes(cid.code),
    ...uvarintBytes(cid.multihash.code),
    ...uvarintBytes(cid.multihash.size)
  ])
}

export interface OutgoingMessage {
  wantlist?: {
    entries: Array<{ cid: CID; priority?: number; cancel?: boolean; wantType?: WantType; sendDontHave?: boolean }>
    full?: boolean
  }
  blocks?: Array<{ cid: CID; bytes: Uint8Array }>
  presences?: Array<{ cid: CID; type: PresenceType }>
  pendingBytes?: number
}

export type WireFormat = 'v0' | 'v1'

/**
 * Encodes a message the way Go does (ascending fields, proto3 defaults omitted, an empty wantlist
 * always present in replies). v0 (1.0.0 / unversioned) carries raw blocks and no presences.
 * Block bytes are appended as views: encoding copies only headers.
 */
export function encodeMessage(msg: OutgoingMessage, format: WireFormat = 'v1'): Uint8ArrayList {
  const out = new Uint8ArrayList()
  const wl = new Uint8ArrayList()
  for (const e of msg.wantlist?.entries ?? []) {
    const entry = bytesField(1, e.cid.bytes)
    if (e.priority) entry.append(tag(2, 0), int32Bytes(e.priority))
    if (e.cancel) entry.append(tag(3, 0), Uint8Array.of(1))
    if (e.wantType === WantType.Have) entry.append(tag(4, 0), Uint8Array.of(1))
    if (e.sendDontHave) entry.append(tag(5, 0), Uint8Array.of(1))
    wl.append(lenField(1, entry))
  }
  if (msg.wantlist?.full) wl.append(tag(2, 0), Uint8Array.of(1))
  out.append(lenField(1, wl))
  if (format === 'v0') {
    for (const b of msg.blocks ?? []) out.append(bytesField(2, b.bytes))
    return out
  }
  for (const b of msg.blocks ?? []) {
    const block = bytesField(1, cidPrefix(b.cid))
    block.append(bytesField(2, b.bytes))
    out.append(lenField(3, block))
  }
  for (const p of msg.presences ?? []) {
    const presence = bytesField(1, p.cid.bytes)
    if (p.type === PresenceType.DontHave) presence.append(tag(2, 0), Uint8Array.of(1))
    out.append(lenField(4, presence))
  }
  if (msg.pendingBytes) out.append(tag(5, 0), int32Bytes(Math.min(msg.pendingBytes, 0x7fffffff)))
  return out
}

const HASHES: Record<number, string> = { 18: 'sha256', 19: 'sha512' }

/**
 * Rebuilds a block's CID from its prefix and data, as a v1 receiver does: hashing the data is what
 * verifies it. Throws MalformedMessageError for a prefix we cannot use.
 */
export function cidFromPrefix(prefix: Uint8Array, data: Uint8Array): CID {
  const r = new Reader(prefix)
  const version = r.uint()
  const codec = r.uint()
  const mhCode = r.uint()
  const algorithm = HASHES[mhCode]
  if (algorithm === undefined)
    throw new MalformedMessageError(`block prefix uses unsupported multihash 0x${mhCode.toString(16)}`)
  const mh = createDigest(mhCode, createHash(algorithm).update(data).digest())
  return version === 0 ? CID.createV0(mh as MultihashDigest<0x12>) : CID.createV1(codec, mh)
}
