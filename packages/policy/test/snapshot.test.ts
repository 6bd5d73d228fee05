import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import {
  createPolicyHolder,
  createSnapshot,
  isCidDenied,
  minerConfigFor,
  providerVerdict,
  unresolvedDenials,
  withResolutions
} from '../src/index.ts'

const defaults = { retrievalTimeoutMs: 60_000, maxConcurrentRetrievals: 1, maxBytesPerSecond: 0 }
const v0 = CID.parse('QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk')

test('a denied CID is matched by multihash: its CIDv1 form is denied too', () => {
  const snap = createSnapshot({
    version: 1,
    defaultMinerConfig: defaults,
    deniedCids: [{ cid: v0.toString(), origin: 'config' }]
  })
  assert.equal(isCidDenied(snap, v0), true)
  assert.equal(isCidDenied(snap, v0.toV1()), true)
  assert.equal(isCidDenied(snap, CID.createV1(0x55, v0.multihash)), true)
  const other = CID.parse('bafkreifkam6ns4aoolg3wedr4uzrs3kvq66p4pecirz6y2vlrngla62mxm')
  assert.equal(isCidDenied(snap, other), false)
})

test('deny list beats allow list, and an allow list admits only its members by any of their names', () => {
  const snap = createSnapshot({
    version: 2,
    defaultMinerConfig: defaults,
    deniedProviders: [{ provider: 'f01', origin: 'api' }],
    allowedProviders: [
      { provider: 'f01', origin: 'config' },
      { provider: '12D3KooWallowed', origin: 'config' }
    ]
  })
  assert.deepEqual(providerVerdict(snap, ['12D3KooWx', 'f01']), { allowed: false, reason: 'denied_provider' })
  assert.deepEqual(providerVerdict(snap, ['12D3KooWother']), { allowed: false, reason: 'not_allowlisted' })
  assert.deepEqual(providerVerdict(snap, ['12D3KooWallowed']), { allowed: true })
})

test('miner config applies by peer ID or address, else the default', () => {
  const snap = createSnapshot({
    version: 1,
    defaultMinerConfig: defaults,
    minerConfigs: [
      { provider: 'f01234', origin: 'config', retrievalTimeoutMs: 5, maxConcurrentRetrievals: 3, maxBytesPerSecond: 7 }
    ]
  })
  assert.equal(minerConfigFor(snap, ['12D3KooWx', 'f01234']).maxConcurrentRetrievals, 3)
  assert.deepEqual(minerConfigFor(snap, ['12D3KooWx']), defaults)
})

test('the holder swaps atomically, refuses an older version and tells subscribers', () => {
  const holder = createPolicyHolder(createSnapshot({ version: 3, defaultMinerConfig: defaults }))
  const seen: number[] = []
  const off = holder.subscribe((next, prev) => seen.push(prev.version, next.version))
  assert.equal(holder.swap(createSnapshot({ version: 2, defaultMinerConfig: defaults })), false)
  assert.equal(holder.current().version, 3)
  assert.equal(holder.swap(createSnapshot({ version: 4, defaultMinerConfig: defaults })), true)
  off()
  holder.swap(createSnapshot({ version: 5, defaultMinerConfig: defaults }))
  assert.deepEqual(seen, [3, 4])
  assert.equal(holder.current().version, 5)
})

test('resolved miner addresses match their peer IDs; an unresolved deny holds back peers known by ID only', () => {
  const base = createSnapshot({
    version: 3,
    defaultMinerConfig: defaults,
    deniedProviders: [{ provider: 'f01234', origin: 'config' }],
    minerConfigs: [{ provider: 'f05678', origin: 'config', ...defaults, maxConcurrentRetrievals: 4 }]
  })
  // Resolution not in use: addresses match only themselves, nothing is held back.
  assert.deepEqual(providerVerdict(base, ['12D3KooWbanned']), { allowed: true })
  const pending = withResolutions(base, new Map())
  assert.equal(pending.version, 3)
  assert.deepEqual(unresolvedDenials(pending), ['f01234'])
  assert.deepEqual(providerVerdict(pending, ['12D3KooWany']), { allowed: false, reason: 'deny_unresolved' })
  // A candidate that carries its own miner address is known: it is judged by it.
  assert.deepEqual(providerVerdict(pending, ['12D3KooWany', 'f09']), { allowed: true })
  assert.deepEqual(pending.deniedProviders.get('f01234')?.resolution, { state: 'unresolved' })
  const resolved = withResolutions(
    pending,
    new Map([
      ['f01234', { state: 'resolved' as const, peerId: '12D3KooWbanned', resolvedAt: '2026-01-01T00:00:00.000Z' }],
      ['f05678', { state: 'resolved' as const, peerId: '12D3KooWtuned', resolvedAt: '2026-01-01T00:00:00.000Z' }]
    ])
  )
  assert.deepEqual(unresolvedDenials(resolved), [])
  assert.deepEqual(providerVerdict(resolved, ['12D3KooWbanned']), { allowed: false, reason: 'denied_provider' })
  assert.deepEqual(providerVerdict(resolved, ['12D3KooWany']), { allowed: true })
  assert.equal(minerConfigFor(resolved, ['12D3KooWtuned']).maxConcurrentRetrievals, 4)
  assert.equal(minerConfigFor(resolved, ['12D3KooWany']).maxConcurrentRetrievals, 1)
  assert.equal(resolved.minerConfigs.get('f05678')?.resolution?.state, 'resolved')
  // An allow list of one unresolved address admits nobody known by peer ID (fail closed).
  const allow = withResolutions(
    createSnapshot({
      version: 4,
      defaultMinerConfig: defaults,
      allowedProviders: [{ provider: 'f05678', origin: 'config' }]
    }),
    new Map()
  )
  assert.deepEqual(providerVerdict(allow, ['12D3KooWtuned']), { allowed: false, reason: 'not_allowlisted' })
})
