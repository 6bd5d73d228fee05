import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  type ConfigPolicy,
  canonicalLayer,
  diffLayers,
  layerDigest,
  layerPolicy,
  mergePolicy,
  minerConfigFor
} from '../src/index.ts'

const MINER = { retrievalTimeoutMs: 60_000, maxConcurrentRetrievals: 1, maxBytesPerSecond: 0 }
const V0 = 'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk'
const layer = (over: Partial<ConfigPolicy> = {}): ConfigPolicy => ({
  cidBlacklist: [],
  minerBlacklist: [],
  minerWhitelist: [],
  defaultMinerConfig: MINER,
  minerConfigs: {},
  retrievalProtocols: ['http', 'graphsync', 'bitswap'],
  ...over
})

test('the same settings in another order have one digest; any policy change gives another', () => {
  const a = layer({ minerBlacklist: ['f02', 'f01'], retrievalProtocols: ['bitswap', 'http'] })
  const b = layer({ minerBlacklist: ['f01', 'f02', 'f01'], retrievalProtocols: ['http', 'bitswap'] })
  assert.equal(layerDigest(a), layerDigest(b))
  assert.notEqual(layerDigest(a), layerDigest(layer({ ...a, minerConfigs: { f01: MINER } })))
  assert.notEqual(layerDigest(a), layerDigest(layer({ ...a, defaultMinerConfig: { ...MINER, maxBytesPerSecond: 1 } })))
})

test('the differences between a file and the stored layer name each key and the values on each side', () => {
  const file = layer({ cidBlacklist: [V0], minerConfigs: { f01: MINER } })
  const stored = layer({ minerBlacklist: ['f09'], minerConfigs: { f01: { ...MINER, maxConcurrentRetrievals: 4 } } })
  assert.deepEqual(diffLayers(file, stored), [
    { key: 'cid-blacklist', onlyInFile: [V0], onlyStored: [] },
    { key: 'miner-blacklist', onlyInFile: [], onlyStored: ['f09'] },
    { key: 'miner-configs', onlyInFile: ['f01'], onlyStored: ['f01'] }
  ])
  assert.deepEqual(diffLayers(file, file), [])
})

test('entries of a stored layer say which version, instance and file brought them', () => {
  const source = { version: 3, instance: 'edge-a', file: '/a/config.yaml', digest: 'd', at: '2026-12-06T00:00:00.000Z' }
  const snap = mergePolicy(layerPolicy(layer({ cidBlacklist: [V0] }), source), {
    version: 5,
    entries: [
      {
        list: 'provider-deny',
        value: 'f07',
        state: 'present',
        reason: 'slow',
        version: 5,
        instance: 'edge-b',
        changedAt: new Date('2026-12-06T01:00:00.000Z')
      }
    ],
    minerConfigs: []
  })
  assert.deepEqual([...snap.deniedCids.values()][0].added, {
    version: 3,
    instance: 'edge-a',
    at: '2026-12-06T00:00:00.000Z',
    file: '/a/config.yaml'
  })
  assert.deepEqual(snap.deniedProviders.get('f07'), {
    provider: 'f07',
    origin: 'api',
    reason: 'slow',
    added: { version: 5, instance: 'edge-b', at: '2026-12-06T01:00:00.000Z' }
  })
  assert.equal(snap.configLayer?.instance, 'edge-a')
})

test('price caps survive the stored layer (as decimal text in its JSON) and API rows override them, none lifting one', () => {
  const source = { version: 2, instance: 'edge-a', file: '/a/config.yaml', digest: 'd', at: '2026-12-06T00:00:00.000Z' }
  const file = layer({
    defaultMinerConfig: { ...MINER, maxRetrievalCost: 10n ** 16n },
    minerConfigs: { f01: { ...MINER, maxPricePerByte: 3n, maxRetrievalCost: 10n ** 16n } }
  })
  assert.equal(layerDigest(layer()), layerDigest(layer()), 'a layer without caps hashes as before them')
  assert.notEqual(layerDigest(file), layerDigest(layer()))
  const stored = JSON.parse(JSON.stringify(canonicalLayer(file)))
  assert.equal(stored.minerConfigs.f01.maxPricePerByte, '3')
  const snap = mergePolicy(layerPolicy(stored, source), {
    version: 4,
    entries: [],
    minerConfigs: [
      {
        provider: 'f01',
        retrievalTimeoutMs: null,
        maxConcurrentRetrievals: null,
        maxBytesPerSecond: null,
        maxPricePerByte: null,
        maxUnsealPrice: '7',
        maxRetrievalCost: 'none',
        state: 'present'
      }
    ]
  })
  const f01 = minerConfigFor(snap, ['f01'])
  assert.equal(f01.maxPricePerByte, 3n, 'null falls back to config.yaml’s')
  assert.equal(f01.maxUnsealPrice, 7n)
  assert.equal(f01.maxRetrievalCost, undefined, 'none: no cap')
  assert.equal(minerConfigFor(snap, ['f0999']).maxRetrievalCost, 10n ** 16n, 'others keep the default cap')
})
