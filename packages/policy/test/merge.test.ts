import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { isCidDenied, mergePolicy, minerConfigFor, providerVerdict } from '../src/index.ts'

const v0 = 'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk'
const other = 'bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm'
const base = {
  cidBlacklist: [v0],
  minerBlacklist: ['f01'],
  minerWhitelist: [],
  defaultMinerConfig: { retrievalTimeoutMs: 60_000, maxConcurrentRetrievals: 1, maxBytesPerSecond: 0 },
  minerConfigs: { f01234: { retrievalTimeoutMs: 1000, maxConcurrentRetrievals: 5, maxBytesPerSecond: 0 } },
  retrievalProtocols: ['http', 'bitswap'] as const
}

test('config.yaml is the base; API entries add on top and say their origin', () => {
  const snap = mergePolicy(
    { ...base, retrievalProtocols: [...base.retrievalProtocols] },
    {
      version: 7,
      entries: [{ list: 'cid-deny', value: other, state: 'present', reason: 'dmca' }],
      minerConfigs: []
    }
  )
  assert.equal(snap.version, 7)
  assert.equal(isCidDenied(snap, CID.parse(other)), true)
  assert.equal(isCidDenied(snap, CID.parse(v0).toV1()), true)
  assert.equal([...snap.deniedCids.values()].find((e) => e.cid === other)?.origin, 'api')
  assert.equal([...snap.deniedCids.values()].find((e) => e.cid === v0)?.origin, 'config')
  assert.deepEqual([...snap.retrievalProtocols], ['http', 'bitswap'])
})

test('an API removal hides a config.yaml entry (tombstone), matching CIDs by multihash', () => {
  const snap = mergePolicy(
    { ...base, retrievalProtocols: [...base.retrievalProtocols] },
    {
      version: 2,
      entries: [
        { list: 'cid-deny', value: CID.parse(v0).toV1().toString(), state: 'removed', reason: null },
        { list: 'provider-deny', value: 'f01', state: 'removed', reason: null }
      ],
      minerConfigs: []
    }
  )
  assert.equal(isCidDenied(snap, CID.parse(v0)), false)
  assert.deepEqual(providerVerdict(snap, ['f01']), { allowed: true })
})

test('API miner configs override field by field; a removed one falls back to the default', () => {
  const snap = mergePolicy(
    { ...base, retrievalProtocols: [...base.retrievalProtocols] },
    {
      version: 3,
      entries: [],
      minerConfigs: [
        {
          provider: 'f01234',
          retrievalTimeoutMs: null,
          maxConcurrentRetrievals: 2,
          maxBytesPerSecond: 100,
          state: 'present'
        },
        {
          provider: 'default',
          retrievalTimeoutMs: 30_000,
          maxConcurrentRetrievals: null,
          maxBytesPerSecond: null,
          state: 'present'
        }
      ]
    }
  )
  assert.deepEqual(minerConfigFor(snap, ['f01234']), {
    retrievalTimeoutMs: 1000,
    maxConcurrentRetrievals: 2,
    maxBytesPerSecond: 100
  })
  assert.deepEqual(minerConfigFor(snap, ['f09']), {
    retrievalTimeoutMs: 30_000,
    maxConcurrentRetrievals: 1,
    maxBytesPerSecond: 0
  })
  const removed = mergePolicy(
    { ...base, retrievalProtocols: [...base.retrievalProtocols] },
    {
      version: 4,
      entries: [],
      minerConfigs: [
        {
          provider: 'f01234',
          retrievalTimeoutMs: null,
          maxConcurrentRetrievals: null,
          maxBytesPerSecond: null,
          state: 'removed'
        }
      ]
    }
  )
  assert.deepEqual(minerConfigFor(removed, ['f01234']), base.defaultMinerConfig)
})

test('first-byte-timeout: a miner’s own from config.yaml, else the default’s; API rows without it keep it', () => {
  const snap = mergePolicy(
    {
      ...base,
      retrievalProtocols: [...base.retrievalProtocols],
      defaultMinerConfig: { ...base.defaultMinerConfig, firstByteTimeoutMs: 3_000 },
      minerConfigs: { f01234: { ...base.minerConfigs.f01234, firstByteTimeoutMs: 800 } }
    },
    {
      version: 2,
      entries: [],
      minerConfigs: [
        {
          provider: 'f01234',
          retrievalTimeoutMs: 9_000,
          maxConcurrentRetrievals: null,
          maxBytesPerSecond: null,
          state: 'present'
        }
      ]
    }
  )
  assert.equal(minerConfigFor(snap, ['f01234']).firstByteTimeoutMs, 800)
  assert.equal(minerConfigFor(snap, ['f01234']).retrievalTimeoutMs, 9_000)
  assert.equal(minerConfigFor(snap, ['f09']).firstByteTimeoutMs, 3_000)
})
