import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CID } from 'multiformats/cid'
import { createPolicyHolder, createSnapshot, isCidDenied, minerConfigFor, providerVerdict } from '../src/index.ts'

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
