import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import test from 'node:test'
import { decodeMetadata, TRANSPORT_BITSWAP, TRANSPORT_GRAPHSYNC, TRANSPORT_HTTP } from '../src/index.ts'

// A copy of specs/test-vectors/ipni-find-examples.json (IPNI spec examples and go-libipni layouts).
const vectors = JSON.parse(readFileSync(new URL('./fixtures/ipni-find-examples.json', import.meta.url), 'utf8'))
const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))
const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'))

test('decodes the Bitswap, HTTP and piece-HTTP metadata vectors', () => {
  assert.deepEqual(decodeMetadata(fromB64(vectors.metadata.bitswap.base64)), [
    { code: TRANSPORT_BITSWAP, protocol: 'bitswap' }
  ])
  assert.deepEqual(decodeMetadata(fromB64(vectors.metadata.ipfsGatewayHttp.base64)), [
    { code: TRANSPORT_HTTP, protocol: 'http' }
  ])
  assert.deepEqual(decodeMetadata(fromB64(vectors.metadata.filecoinPieceHttp.base64)), [
    { code: 0x0930, protocol: 'unknown' }
  ])
})

test('decodes the graphsync vector from the IPNI spec: piece CID, verified deal, fast retrieval', () => {
  const v = vectors.metadata.graphsyncFilecoinV1
  const [entry, ...rest] = decodeMetadata(fromB64(v.base64))
  assert.equal(rest.length, 0)
  assert.equal(entry.code, TRANSPORT_GRAPHSYNC)
  assert.equal(entry.protocol, 'graphsync')
  assert.deepEqual(entry.graphsync, {
    pieceCid: v.fields.PieceCID,
    verifiedDeal: v.fields.VerifiedDeal,
    fastRetrieval: v.fields.FastRetrieval
  })
  assert.deepEqual(decodeMetadata(fromHex(v.hex)), decodeMetadata(fromB64(v.base64)), 'hex and base64 forms agree')
})

test('decodes several protocols in one metadata value, in order', () => {
  const entries = decodeMetadata(fromB64(vectors.metadata.combinedBitswapGraphsyncHttp.base64))
  assert.deepEqual(
    entries.map((e) => e.protocol),
    ['bitswap', 'graphsync', 'http']
  )
  assert.equal(entries[1].graphsync?.pieceCid, vectors.metadata.graphsyncFilecoinV1.fields.PieceCID)
})

test('decodes the metadata of the spec example FindResponse', () => {
  const results = vectors.specExampleJson.MultihashResults[0].ProviderResults
  assert.deepEqual(
    results.map((r: { Metadata: string }) => decodeMetadata(fromB64(r.Metadata))[0].protocol),
    ['bitswap', 'graphsync']
  )
})

test('skips an unknown protocol by its length and keeps parsing', () => {
  // 0x3d0000 (proposed HTTP) with a 2-byte payload, then Bitswap.
  const bytes = Uint8Array.of(0x80, 0x80, 0xf4, 0x01, 0x02, 0xaa, 0xbb, 0x80, 0x12)
  assert.deepEqual(
    decodeMetadata(bytes).map((e) => [e.code, e.protocol]),
    [
      [0x3d0000, 'unknown'],
      [TRANSPORT_BITSWAP, 'bitswap']
    ]
  )
})

test('refuses broken metadata with IndexerResponseError, never a crash', () => {
  const gs = fromHex(vectors.metadata.graphsyncFilecoinV1.hex)
  const broken = [
    new Uint8Array(0), // empty
    Uint8Array.of(0x80), // truncated varint
    gs.subarray(0, 20), // graphsync map cut short
    Uint8Array.of(0x90, 0x12, 0xa0), // graphsync: an empty map, no PieceCID
    Uint8Array.of(0xa0, 0x12, 0x05, 0x00), // HTTP payload longer than what is left
    Uint8Array.of(0x80, 0x80, 0xf4, 0x01, 0xff, 0x7f) // unknown protocol claiming 16 KiB
  ]
  for (const bytes of broken) {
    assert.throws(
      () => decodeMetadata(bytes),
      (err: Error & { code?: string }) => err.name === 'IndexerResponseError' && err.code === 'ERR_INDEXER_RESPONSE',
      Buffer.from(bytes).toString('hex')
    )
  }
})
