import { createHash } from 'node:crypto'
import { FrameTooLargeError, readFrames as readLengthPrefixed, encodeFrame as writeFrame } from '@autoretrieve/frames'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import type { MultihashDigest } from 'multiformats/hashes/interface'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MalformedMessageError, MessageTooLargeError } from './errors.ts'
import { cidPrefix, type GraphsyncBlock } from './message.ts'

/** go-graphsync reads with msgio.NewVarintReaderSize(stream, 1<<22): larger frames reset the stream. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024

const HASHES: Record<number, string> = {
  18: 'sha256',
  19: 'sha512',
  22: 'sha3-256',
  20: 'sha3-512'
}

/** One message as it goes on a stream: uvarint length then the payload. */
export function encodeFrame(payload: Uint8Array | Uint8ArrayList): Uint8ArrayList {
  if (payload.byteLength > MAX_MESSAGE_BYTES)
    throw new MessageTooLargeError(`a ${payload.byteLength}-byte message is over the ${MAX_MESSAGE_BYTES}-byte limit`)
  return writeFrame(payload)
}

/**
 * Graphsync's frames from a stream: @autoretrieve/frames' reader with Go's 4 MiB bound, failing
 * with this package's MessageTooLargeError / MalformedMessageError (the cause keeps the original).
 */
export function readFrames(
  source: AsyncIterable<Uint8Array | Uint8ArrayList>,
  maxLength = MAX_MESSAGE_BYTES
): AsyncGenerator<Uint8Array> {
  return readLengthPrefixed(source, {
    maxLength,
    label: 'graphsync message',
    mapError: (err) =>
      err instanceof FrameTooLargeError
        ? new MessageTooLargeError(err.message, { cause: err })
        : new MalformedMessageError(err.message, { cause: err })
  })
}

function readUvarints(bytes: Uint8Array, count: number): number[] {
  const out: number[] = []
  let pos = 0
  for (let k = 0; k < count; k++) {
    let value = 0
    let shift = 0
    while (true) {
      if (pos >= bytes.byteLength || shift > 49)
        throw new MalformedMessageError('graphsync block: truncated CID prefix')
      const b = bytes[pos++]
      value += (b & 0x7f) * 2 ** shift
      shift += 7
      if ((b & 0x80) === 0) break
    }
    out.push(value)
  }
  if (pos !== bytes.byteLength) throw new MalformedMessageError('graphsync block: trailing bytes after the CID prefix')
  return out
}

/**
 * The CID of a received block, computed from its data with the prefix's hash function: the wire
 * carries no CID, so integrity is by construction. Identity hashes are accepted (Go sends them as
 * ordinary blocks since 0.15.1).
 */
export function blockCid(block: GraphsyncBlock): CID {
  const [version, codec, mhCode, length] = readUvarints(block.prefix, 4)
  let digest: Uint8Array
  if (mhCode === 0x00) digest = block.data
  else {
    const algorithm = HASHES[mhCode]
    if (algorithm === undefined)
      throw new MalformedMessageError(`graphsync block: unsupported multihash 0x${mhCode.toString(16)}`)
    digest = createHash(algorithm).update(block.data).digest()
  }
  // The whole digest, never a truncated one: the CID must match these bytes exactly (the retriever
  // trusts it without hashing again, and an identity CID cut shorter than its data would stand
  // for other bytes than the ones received).
  if (length !== digest.byteLength)
    throw new MalformedMessageError(
      `graphsync block: the prefix's digest length ${length} is not the ${digest.byteLength} bytes of its ${mhCode === 0 ? 'data' : 'hash'}`
    )
  const mh = createDigest(mhCode, digest)
  if (version === 0) {
    if (codec !== 0x70 || mhCode !== 0x12)
      throw new MalformedMessageError('graphsync block: CIDv0 prefix not dag-pb/sha2-256')
    return CID.createV0(mh as MultihashDigest<0x12>)
  }
  if (version !== 1) throw new MalformedMessageError(`graphsync block: CID version ${version}`)
  return CID.createV1(codec, mh)
}

export function blockToWire(cid: CID, data: Uint8Array): GraphsyncBlock {
  return { prefix: cidPrefix(cid), data }
}
