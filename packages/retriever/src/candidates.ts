import type { AbortOptions, CandidateVerdict, Logger } from '@autoretrieve/interface'
import { type PolicySnapshot, providerVerdict } from '@autoretrieve/policy'
import type { Candidate, CandidateSource, TransportProtocol } from '@autoretrieve/routing'
import type { CID } from 'multiformats/cid'
import { PROTOCOL_ORDER } from './constants.ts'
import type { ProviderScores } from './scores.ts'

/**
 * Asks the candidate source for `cid`. A lookup that fails is not thrown but returned with what was
 * found before it failed (the retrieval fails `no_candidates` with it if nothing was); one that
 * fails because `options.signal` aborted is thrown.
 */
export async function findCandidates(
  source: CandidateSource,
  cid: CID,
  options: AbortOptions & { signal: AbortSignal; logger?: Logger }
): Promise<{ found: Candidate[]; error?: Error }> {
  const found: Candidate[] = []
  try {
    for await (const c of source.find(cid, { signal: options.signal })) found.push(c)
  } catch (err) {
    if (options.signal.aborted) throw err
    options.logger?.warn({ cid: cid.toString(), err: (err as Error).message }, 'candidate lookup failed')
    return { found, error: err as Error }
  }
  return { found }
}

/** One candidate per peer: IPNI lists a provider once per protocol (extended providers). */
export function mergeByPeer(list: Candidate[]): Candidate[] {
  const byPeer = new Map<string, Candidate>()
  for (const c of list) {
    const prev = byPeer.get(c.peerId)
    if (prev === undefined) {
      byPeer.set(c.peerId, { ...c, addrs: [...c.addrs], protocols: [...c.protocols], httpUrls: [...c.httpUrls] })
      continue
    }
    prev.addrs = [...new Set([...prev.addrs, ...c.addrs])]
    prev.protocols = [...new Set([...prev.protocols, ...c.protocols])]
    prev.httpUrls = [...new Set([...prev.httpUrls, ...c.httpUrls])]
    prev.graphsync ??= c.graphsync
    prev.minerAddress ??= c.minerAddress
  }
  return [...byPeer.values()]
}

/**
 * Passes each candidate through the policy: a denied or not-allowlisted provider is dropped, and
 * so is one left with no protocol that is both enabled and `usable` (an adapter that can reach it).
 * Accepted candidates keep only those protocols.
 */
export function screenCandidates(
  found: readonly Candidate[],
  snapshot: PolicySnapshot,
  usable: (protocol: TransportProtocol, candidate: Candidate) => boolean
): { accepted: Candidate[]; verdicts: CandidateVerdict[] } {
  const accepted: Candidate[] = []
  const verdicts = found.map((c): CandidateVerdict => {
    const verdict = providerVerdict(snapshot, [c.peerId, ...(c.minerAddress ? [c.minerAddress] : [])])
    let reason: string | null = verdict.allowed ? null : verdict.reason
    const protocols = c.protocols.filter((p) => snapshot.retrievalProtocols.has(p) && usable(p, c))
    if (reason === null && protocols.length === 0) reason = 'protocol_disabled'
    if (reason === null) accepted.push({ ...c, protocols })
    return {
      provider: c.peerId,
      protocols: c.protocols,
      addrs: c.addrs,
      verdict: reason === null ? 'accepted' : 'dropped',
      reason,
      policyVersion: snapshot.version
    }
  })
  return { accepted, verdicts }
}

/** How promising a candidate is: its provider's score, and a little for good deal terms. */
export function rank(candidate: Candidate, scores: ProviderScores): number {
  const bonus = (candidate.graphsync?.verifiedDeal ? 0.02 : 0) + (candidate.graphsync?.fastRetrieval ? 0.01 : 0)
  return scores.score(candidate.peerId) + bonus
}

/** The accepted candidates by protocol (in PROTOCOL_ORDER, protocols nobody offers left out), best first. */
export function orderCandidates(
  accepted: readonly Candidate[],
  scores: ProviderScores
): Map<TransportProtocol, Candidate[]> {
  const byProtocol = new Map<TransportProtocol, Candidate[]>()
  for (const protocol of PROTOCOL_ORDER) {
    const list = accepted
      .filter((c) => c.protocols.includes(protocol))
      .sort((a, b) => rank(b, scores) - rank(a, scores))
    if (list.length > 0) byProtocol.set(protocol, list)
  }
  return byProtocol
}
