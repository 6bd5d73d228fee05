import type { CID } from 'multiformats/cid'
import { PresenceType } from './codec.ts'

/**
 * Splitting queued answers into messages, as the Helia server packs them: as full as the target
 * allows, since every message costs a client a fixed amount of CPU (see DEFAULT_TARGET_MESSAGE_SIZE).
 * Pure: no I/O, no clock, nothing kept between calls.
 */

/** One answer ready to go: a block with its bytes, or a presence. */
export type PackEntry = { kind: 'block'; cid: CID; bytes: Uint8Array } | { kind: 'have' | 'dont-have'; cid: CID }

/** One message's contents (the fields `encodeMessage` takes), and the entries it carries. */
export interface PackedMessage<E extends PackEntry = PackEntry> {
  blocks: Array<{ cid: CID; bytes: Uint8Array }>
  presences: Array<{ cid: CID; type: PresenceType }>
  /** The entries in this message, in input order (the caller accounts for them once sent). */
  entries: E[]
  /** Bytes counted against the target: each entry's `entrySize`. */
  size: number
}

/**
 * Upper bounds of the protobuf framing around one entry. A block in `payload`: its field tag and
 * length (up to 4 bytes), the prefix field (2 bytes, then four varints: under 20 bytes for any code
 * in the multicodec table) and the data field's tag and length (up to 4 bytes): 30, so 48 leaves
 * room. A presence: its tag and length, the CID field's, and the type field (2 bytes each): 6, so 8.
 */
export const BLOCK_OVERHEAD = 48
export const PRESENCE_OVERHEAD = 8

/** Bytes an entry adds to a message, as counted against the target. */
export function entrySize(entry: PackEntry): number {
  return entry.kind === 'block'
    ? entry.bytes.byteLength + BLOCK_OVERHEAD
    : entry.cid.bytes.byteLength + PRESENCE_OVERHEAD
}

/**
 * Packs entries into messages of at most `targetSize` counted bytes, in order: an entry that would
 * take the current message past the target starts the next one. An entry bigger than the target
 * on its own (a 2 MiB block under a small target) goes alone in a message of its own: it is never
 * split and never dropped. No entries, no messages.
 */
export function packMessages<E extends PackEntry>(entries: Iterable<E>, targetSize: number): Array<PackedMessage<E>> {
  const messages: Array<PackedMessage<E>> = []
  let current: PackedMessage<E> | undefined
  for (const entry of entries) {
    const size = entrySize(entry)
    if (current === undefined || (current.entries.length > 0 && current.size + size > targetSize)) {
      current = { blocks: [], presences: [], entries: [], size: 0 }
      messages.push(current)
    }
    if (entry.kind === 'block') current.blocks.push({ cid: entry.cid, bytes: entry.bytes })
    else
      current.presences.push({
        cid: entry.cid,
        type: entry.kind === 'have' ? PresenceType.Have : PresenceType.DontHave
      })
    current.entries.push(entry)
    current.size += size
  }
  return messages
}
