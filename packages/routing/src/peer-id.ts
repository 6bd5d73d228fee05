import { peerIdFromCID, peerIdFromString } from '@libp2p/peer-id'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'

/**
 * A peer ID in its canonical base58 form, from any form a routing answer uses (base58 `Qm…` /
 * `12D3Koo…`, or a libp2p-key CID in base32 `bafz…` / base36 `k51…`); undefined when it is none.
 * Canonical form matters: our own ID must be recognised whichever way the indexer spells it.
 */
export function canonicalPeerId(text: string): string | undefined {
  try {
    if (text.startsWith('1') || text.startsWith('Q')) return peerIdFromString(text).toString()
    return peerIdFromCID(text.startsWith('k') ? CID.parse(text, base36) : CID.parse(text)).toString()
  } catch {
    return undefined
  }
}
