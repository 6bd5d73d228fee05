import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Candidate } from '../src/index.ts'

/** Valid peer IDs (from the IPNI spec's examples), so that no key generation is needed. */
export const PEERS = {
  a: '12D3KooW9yi2xLhXds9HC4x9vRN99mphq6ds8qN2YRf8zks1F32G',
  b: '12D3KooWHVXoJnv2ifmr9K6LWwJPXxkfvzZRHzjiTZMvybeTnwPy',
  c: '12D3KooWDpp7U7W9Q8feMZPPEpPP5FKXTUakLgnVLbavfjb9mzrT',
  legacy: 'QmQzqxhK82kAmKvARFZSkUVS6fo9sySaiogAnx5EnZ6ZmC'
}

export async function cidOf(text: string): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(text)))
}

export async function collect(it: AsyncIterable<Candidate>): Promise<Candidate[]> {
  const out: Candidate[] = []
  for await (const c of it) out.push(c)
  return out
}

/** A fetch that answers every request with one canned body: for answers no honest server gives. */
export function cannedFetch(body: string, contentType = 'application/json', status = 200): typeof fetch {
  return (async () => new Response(body, { status, headers: { 'Content-Type': contentType } })) as typeof fetch
}

/** Asserts a rejection by error name and code (never by message text). */
export function isError(name: string, code?: string) {
  return (err: Error & { code?: string }) => err.name === name && (code === undefined || err.code === code)
}
