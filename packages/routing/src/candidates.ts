import type { Logger } from '@autoretrieve/interface'
import { IndexerResponseError } from './errors.ts'
import { decodeBase64, decodeMetadata, type MetadataEntry } from './metadata.ts'
import { multiaddrToHttpUrl } from './multiaddr-url.ts'
import { canonicalPeerId } from './peer-id.ts'
import type { Candidate, GraphsyncMetadata, TransportProtocol } from './types.ts'

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A provider's ID, checked and canonical; a record naming no valid peer is a broken answer. */
export function peerIdOf(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new IndexerResponseError(`${what}: the provider ID is not a string`)
  const peerId = canonicalPeerId(value)
  if (peerId === undefined) throw new IndexerResponseError(`${what}: ${value} is not a peer ID`)
  return peerId
}

/** A list of multiaddr strings; absent or null is an empty list (the peer then needs peer routing). */
export function addrsOf(value: unknown, what: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.some((a) => typeof a !== 'string')) {
    throw new IndexerResponseError(`${what}: Addrs is not a list of strings`)
  }
  return value as string[]
}

export function httpUrlsOf(addrs: string[]): string[] {
  return addrs.map(multiaddrToHttpUrl).filter((u): u is string => u !== undefined)
}

/**
 * One IPNI ProviderResult as a candidate. Wrong JSON types or bad base64 are a broken answer
 * (IndexerResponseError). A record without metadata, or whose metadata bytes we cannot parse or
 * name no protocol we speak, is skipped (undefined), as Lassie does: one odd advertisement must not
 * hide the other providers.
 */
export function candidateFromResult(
  result: unknown,
  rootCid: string,
  what: string,
  logger?: Logger
): Candidate | undefined {
  if (!isObject(result)) throw new IndexerResponseError(`${what}: a provider result is not an object`)
  if (!isObject(result.Provider)) throw new IndexerResponseError(`${what}: a provider result has no Provider object`)
  const peerId = peerIdOf(result.Provider.ID, what)
  const addrs = addrsOf(result.Provider.Addrs, `${what}: provider ${peerId}`)
  if (result.ContextID !== undefined && typeof result.ContextID !== 'string') {
    throw new IndexerResponseError(`${what}: ContextID of ${peerId} is not a string`)
  }
  if (result.Metadata === undefined || result.Metadata === null || result.Metadata === '') return undefined
  if (typeof result.Metadata !== 'string') {
    throw new IndexerResponseError(`${what}: Metadata of ${peerId} is not a string`)
  }
  const bytes = decodeBase64(result.Metadata, `${what}: Metadata of ${peerId}`)
  let entries: MetadataEntry[]
  try {
    entries = decodeMetadata(bytes)
  } catch (err) {
    logger?.debug({ peerId, err: (err as Error).message }, 'skipping a provider whose metadata does not parse')
    return undefined
  }
  return fromEntries(peerId, addrs, entries, rootCid, 'ipni')
}

const DR_PROTOCOLS: Record<string, TransportProtocol> = {
  'transport-bitswap': 'bitswap',
  'transport-graphsync-filecoinv1': 'graphsync',
  'transport-ipfs-gateway-http': 'http'
}

/** One Delegated Routing V1 record (`Schema: "peer"`, or the legacy per-protocol schemas) as a candidate. */
export function candidateFromRecord(record: unknown, rootCid: string, what: string): Candidate | undefined {
  if (!isObject(record)) throw new IndexerResponseError(`${what}: a provider record is not an object`)
  if (typeof record.Schema !== 'string') throw new IndexerResponseError(`${what}: a provider record has no Schema`)
  if (!['peer', 'bitswap', 'graphsync-filecoinv1'].includes(record.Schema)) return undefined // unknown: ignore
  const peerId = peerIdOf(record.ID, what)
  const addrs = addrsOf(record.Addrs, `${what}: provider ${peerId}`)
  let names: unknown[] = []
  if (Array.isArray(record.Protocols)) names = record.Protocols
  else if (typeof record.Protocol === 'string') names = [record.Protocol]
  else if (record.Protocols !== undefined && record.Protocols !== null) {
    throw new IndexerResponseError(`${what}: Protocols of ${peerId} is not a list`)
  }
  const protocols = [...new Set(names.map((n) => DR_PROTOCOLS[String(n)]).filter((p) => p !== undefined))]
  if (protocols.length === 0) return undefined
  let graphsync: GraphsyncMetadata | undefined
  const gsMeta = record['transport-graphsync-filecoinv1']
  if (typeof gsMeta === 'string') {
    // indexstar's translation: the protocol's full metadata bytes, code included.
    const bytes = decodeBase64(gsMeta, `${what}: graphsync metadata of ${peerId}`)
    try {
      graphsync = decodeMetadata(bytes).find((e) => e.graphsync)?.graphsync
    } catch {}
  } else if (typeof record.PieceCID === 'string') {
    graphsync = {
      pieceCid: record.PieceCID,
      verifiedDeal: record.VerifiedDeal === true,
      fastRetrieval: record.FastRetrieval === true
    }
  }
  return {
    peerId,
    addrs,
    protocols,
    httpUrls: protocols.includes('http') ? httpUrlsOf(addrs) : [],
    ...(graphsync ? { graphsync } : {}),
    rootCid,
    source: 'delegated-routing'
  }
}

function fromEntries(
  peerId: string,
  addrs: string[],
  entries: MetadataEntry[],
  rootCid: string,
  source: Candidate['source']
): Candidate | undefined {
  const protocols = [...new Set(entries.map((e) => e.protocol).filter((p): p is TransportProtocol => p !== 'unknown'))]
  if (protocols.length === 0) return undefined
  const graphsync = entries.find((e) => e.graphsync)?.graphsync
  return {
    peerId,
    addrs,
    protocols,
    httpUrls: protocols.includes('http') ? httpUrlsOf(addrs) : [],
    ...(graphsync ? { graphsync } : {}),
    rootCid,
    source
  }
}
