import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import {
  applyYaml,
  DEFAULTS,
  defaultConfigYaml,
  ensureAdminToken,
  formatDuration,
  loadConfig,
  parseByteSize,
  parseDuration,
  renderConfigYaml,
  updateConfigKeys
} from '../src/index.ts'

/** A Go config with every key given a value (the README's own example is GO_README_LITERAL below). */
const GO_FULL_EXAMPLE = `advertise-endpoint-url: https://api.estuary.tech/autoretrieve/heartbeat
advertise-endpoint-token: AUTORETRIEVE-TOKEN
heartbeat-interval: 30s
lookup-endpoint-type: indexer
lookup-endpoint-url: https://cid.contact
max-bitswap-workers: 1
routing-table-type: dht
prune-threshold: 1GiB
pin-duration: 1h
log-resource-manager: false
log-retrieval-stats: false
disable-retrieval: false
cid-blacklist: []
miner-blacklist: []
miner-whitelist: []
event-recorder-endpoint-url: ""
instance-name: autoretrieve-unnamed
default-miner-config:
  retrieval-timeout: 1m
  max-concurrent-retrievals: 1
miner-configs:
  f01234:
    retrieval-timeout: 2m30s
    max-concurrent-retrievals: 2
  f05678:
    max-concurrent-retrievals: 10
`

async function dir(t: { after(fn: () => Promise<void>): void }) {
  const d = await mkdtemp(join(tmpdir(), 'ar-config-'))
  t.after(() => rm(d, { recursive: true, force: true }))
  return join(d, 'data')
}

async function withYaml(t: { after(fn: () => Promise<void>): void }, text: string) {
  const dataDir = await dir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), text)
  return dataDir
}

test('a Go config with every key set loads with its values; miner configs fill in from the default', async (t) => {
  const dataDir = await withYaml(t, GO_FULL_EXAMPLE)
  const { config, created } = await loadConfig({ flags: { dataDir }, env: {} })
  assert.equal(created, false)
  assert.equal(config.pruneThresholdBytes, 1024 ** 3)
  assert.equal(config.heartbeatIntervalMs, 30_000)
  assert.equal(config.advertiseEndpointUrl, 'https://api.estuary.tech/autoretrieve/heartbeat')
  assert.equal(config.advertiseEndpointToken, 'AUTORETRIEVE-TOKEN')
  assert.deepEqual(config.minerConfigs.f01234, {
    retrievalTimeoutMs: 150_000,
    maxConcurrentRetrievals: 2,
    maxBytesPerSecond: 0,
    firstByteTimeoutMs: 5_000,
    maxRetrievalCost: 10n ** 16n
  })
  assert.deepEqual(config.minerConfigs.f05678, {
    retrievalTimeoutMs: 60_000,
    maxConcurrentRetrievals: 10,
    maxBytesPerSecond: 0,
    firstByteTimeoutMs: 5_000,
    maxRetrievalCost: 10n ** 16n
  })
})

test('the Go code’s key names (estuary-url, advertise-token) load as aliases, but not both at once', async (t) => {
  const dataDir = await withYaml(t, 'estuary-url: http://127.0.0.1:1/hb\nadvertise-token: tok\n')
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  assert.equal(config.advertiseEndpointUrl, 'http://127.0.0.1:1/hb')
  assert.equal(config.advertiseEndpointToken, 'tok')
  const both = await withYaml(t, 'estuary-url: http://a.example\nadvertise-endpoint-url: http://b.example\n')
  await assert.rejects(loadConfig({ flags: { dataDir: both }, env: {} }), { name: 'ConfigError', line: 2 })
})

test('an empty config has every default', async (t) => {
  const dataDir = await withYaml(t, '')
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  const { dataDir: _d, listenAddrs, ...rest } = config
  assert.deepEqual(rest, DEFAULTS)
  assert.deepEqual(listenAddrs, ['/ip4/0.0.0.0/tcp/6746', '/ip4/0.0.0.0/tcp/6747/ws'])
})

test('environment beats YAML and a flag beats the environment', async (t) => {
  const dataDir = await withYaml(t, 'lookup-endpoint-type: estuary\ndisable-retrieval: false\n')
  const env = {
    AUTORETRIEVE_LOOKUP_ENDPOINT_TYPE: 'INDEXER',
    AUTORETRIEVE_DISABLE_RETRIEVAL: 'true',
    AUTORETRIEVE_LISTEN: '/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/tcp/2/ws'
  }
  const fromEnv = (await loadConfig({ flags: { dataDir }, env })).config
  assert.equal(fromEnv.lookupEndpointType, 'indexer')
  assert.equal(fromEnv.disableRetrieval, true)
  assert.deepEqual(fromEnv.listenAddrs, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2/ws'])
  const fromFlag = (
    await loadConfig({ flags: { dataDir, lookupEndpointType: 'estuary', listen: ['/ip4/127.0.0.1/tcp/3'] }, env })
  ).config
  assert.equal(fromFlag.lookupEndpointType, 'estuary')
  assert.deepEqual(fromFlag.listenAddrs, ['/ip4/127.0.0.1/tcp/3'])
  const db = (
    await loadConfig({
      flags: { dataDir },
      env: { DATABASE_URL: 'postgres://a', AUTORETRIEVE_DATABASE_URL: 'postgres://b' }
    })
  ).config
  assert.equal(db.databaseUrl, 'postgres://b')
})

test('a bad value names the key, the file and the line', async (t) => {
  const dataDir = await withYaml(t, '# comment\ninstance-name: x\nprune-threshold: lots\n')
  await assert.rejects(loadConfig({ flags: { dataDir }, env: {} }), (err: Error & { key?: string; line?: number }) => {
    assert.equal(err.name, 'ConfigError')
    assert.equal(err.key, 'prune-threshold')
    assert.equal(err.line, 3)
    assert.match(err.message, /config\.yaml:3: prune-threshold: "lots" is not a byte size/)
    return true
  })
})

test('a bad list item, miner config value, env var or flag is named precisely', async (t) => {
  const list = await withYaml(t, 'cid-blacklist:\n  - QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk\n  - not-a-cid\n')
  await assert.rejects(loadConfig({ flags: { dataDir: list }, env: {} }), { name: 'ConfigError', line: 3 })
  const miner = await withYaml(t, 'miner-configs:\n  f01234:\n    retrieval-timeout: soon\n')
  await assert.rejects(loadConfig({ flags: { dataDir: miner }, env: {} }), {
    name: 'ConfigError',
    key: 'miner-configs.f01234.retrieval-timeout',
    line: 3
  })
  const badMiner = await withYaml(t, 'miner-blacklist: [nobody]\n')
  await assert.rejects(
    loadConfig({ flags: { dataDir: badMiner }, env: {} }),
    /neither a peer ID nor a Filecoin address/
  )
  const ok = await withYaml(t, '')
  await assert.rejects(loadConfig({ flags: { dataDir: ok }, env: { AUTORETRIEVE_DISABLE_RETRIEVAL: 'maybe' } }), {
    key: 'AUTORETRIEVE_DISABLE_RETRIEVAL'
  })
  await assert.rejects(loadConfig({ flags: { dataDir: ok, adminListen: 'localhost' }, env: {} }), {
    key: '--admin-listen'
  })
  await assert.rejects(loadConfig({ flags: { dataDir: ok, routingTableType: 'kademlia' }, env: {} }), {
    key: '--routing-table-type'
  })
})

test('an unknown key is an error with a "did you mean"', async (t) => {
  const dataDir = await withYaml(t, 'instance-name: a\nprune-treshold: 1GiB\n')
  await assert.rejects(loadConfig({ flags: { dataDir }, env: {} }), (err: Error & { line?: number }) => {
    assert.equal(err.line, 2)
    assert.match(err.message, /unknown key \(did you mean "prune-threshold"\?\)/)
    return true
  })
  const syntax = await withYaml(t, 'a: [\n')
  await assert.rejects(loadConfig({ flags: { dataDir: syntax }, env: {} }), /invalid YAML/)
})

test('byte sizes read like go-humanize and durations like Go', () => {
  assert.equal(parseByteSize('1GiB'), 1073741824)
  assert.equal(parseByteSize('1 GB'), 1e9)
  assert.equal(parseByteSize('1000000000'), 1e9)
  assert.equal(parseByteSize(1000000000), 1e9)
  assert.equal(parseByteSize('512MiB'), 512 * 2 ** 20)
  assert.equal(parseByteSize('1.5GB'), 1.5e9)
  assert.equal(parseByteSize('10kb'), 10_000)
  assert.throws(() => parseByteSize('lots'), { name: 'UnitError' })
  assert.equal(parseDuration('1h30m'), 5_400_000)
  assert.equal(parseDuration('2m30s'), 150_000)
  assert.equal(parseDuration('500ms'), 500)
  assert.equal(parseDuration('1.5h'), 5_400_000)
  assert.equal(parseDuration(0), 0)
  assert.throws(() => parseDuration(60), /no unit/)
  assert.throws(() => parseDuration('1 hour'), { name: 'UnitError' })
  for (const ms of [0, 500, 1000, 90_000, 3_600_000, 5_400_000, 150_000])
    assert.equal(parseDuration(formatDuration(ms)), ms)
})

test('first run creates the data dir (0700) and a default config.yaml, and says so', async (t) => {
  const dataDir = await dir(t)
  const first = await loadConfig({ flags: { dataDir }, env: {} })
  assert.equal(first.created, true)
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
  assert.equal(await readFile(first.configPath, 'utf8'), defaultConfigYaml())
  assert.equal((await loadConfig({ flags: { dataDir }, env: {} })).created, false)
})

test('the default config lists every key and loads back to the defaults', () => {
  const parsed = parse(defaultConfigYaml())
  for (const key of [
    'advertise-endpoint-url',
    'prune-threshold',
    'listen-addrs',
    'retrieval-protocols',
    'default-miner-config',
    'miner-configs'
  ]) {
    assert.ok(key in parsed, key)
  }
  assert.ok('max-bytes-per-second' in parsed['default-miner-config'])
  const config = { ...structuredClone(DEFAULTS), dataDir: '/x', listenAddrs: [] as string[] }
  applyYaml(config, defaultConfigYaml(), 'config.yaml')
  assert.deepEqual({ ...config, listenAddrs: [] }, { ...DEFAULTS, dataDir: '/x', listenAddrs: [] })
})

test('print-config redacts secrets and the database password, and loads back', async (t) => {
  const dataDir = await withYaml(
    t,
    `${GO_FULL_EXAMPLE}admin-token: admin-secret\ndatabase-url: postgres://u:dbpass@127.0.0.1/db\n`
  )
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  const text = renderConfigYaml(config, { redact: true })
  assert.doesNotMatch(text, /AUTORETRIEVE-TOKEN|admin-secret|dbpass/)
  assert.match(text, /prune-threshold: 1GiB/)
  const clear = { ...structuredClone(DEFAULTS), dataDir, listenAddrs: [] as string[] }
  applyYaml(clear, renderConfigYaml(config, { redact: false }), 'printed.yaml')
  assert.deepEqual(clear.minerConfigs, config.minerConfigs)
  assert.equal(clear.pruneThresholdBytes, config.pruneThresholdBytes)
})

test('the admin token is generated once at 0600; updateConfigKeys keeps comments', async (t) => {
  const dataDir = await withYaml(t, '# keep me\ninstance-name: a\n')
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  const token = await ensureAdminToken(config)
  assert.match(token, /^[0-9a-f]{64}$/)
  assert.equal(await ensureAdminToken(config), token)
  assert.equal((await stat(join(dataDir, 'admin-token'))).mode & 0o777, 0o600)
  await updateConfigKeys(join(dataDir, 'config.yaml'), { 'advertise-endpoint-token': 'x' })
  const text = await readFile(join(dataDir, 'config.yaml'), 'utf8')
  assert.match(text, /# keep me/)
  assert.match(text, /advertise-endpoint-token: x/)
})

test('updateConfigKeys sets the Go name a file already uses (estuary-url) instead of adding a second key, at 0600', async (t) => {
  const dataDir = await withYaml(t, '# go file\nestuary-url: ""\nadvertise-token: old\n')
  const path = join(dataDir, 'config.yaml')
  await updateConfigKeys(path, {
    'advertise-endpoint-url': 'https://estuary.example',
    'advertise-endpoint-token': 'new',
    'heartbeat-interval': '1m0s'
  })
  const text = await readFile(path, 'utf8')
  assert.match(text, /^# go file$/m)
  assert.deepEqual(parse(text), {
    'estuary-url': 'https://estuary.example',
    'advertise-token': 'new',
    'heartbeat-interval': '1m0s'
  })
  assert.equal((await stat(path)).mode & 0o777, 0o600)
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  assert.equal(config.advertiseEndpointUrl, 'https://estuary.example')
  assert.equal(config.advertiseEndpointToken, 'new')
  assert.equal(config.heartbeatIntervalMs, 60_000)
})

test('first-byte-timeout: 5s by default, set in default-miner-config, overridden per miner', async (t) => {
  const none = await loadConfig({ flags: { dataDir: await withYaml(t, '') }, env: {} })
  assert.equal(none.config.defaultMinerConfig.firstByteTimeoutMs, 5_000)
  const dataDir = await withYaml(
    t,
    'default-miner-config:\n  first-byte-timeout: 3s\nminer-configs:\n  f01234:\n    first-byte-timeout: 800ms\n  f05678:\n    max-concurrent-retrievals: 2\n'
  )
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  assert.equal(config.defaultMinerConfig.firstByteTimeoutMs, 3_000)
  assert.equal(config.minerConfigs.f01234.firstByteTimeoutMs, 800)
  assert.equal(config.minerConfigs.f05678.firstByteTimeoutMs, 3_000, 'a miner without it takes the default')
  const bad = await withYaml(t, 'miner-configs:\n  f01234:\n    first-byte-timeout: soon\n')
  await assert.rejects(loadConfig({ flags: { dataDir: bad }, env: {} }), {
    key: 'miner-configs.f01234.first-byte-timeout'
  })
  assert.match(defaultConfigYaml(), /# no connection and first verified block[^\n]*\n {2}first-byte-timeout: 5s/)
})

/** The YAML example of the Go autoretrieve's README (last commit, fd80e5e), byte for byte. */
const GO_README_LITERAL = readFileSync(
  fileURLToPath(new URL('../../../test-vectors/go-autoretrieve/readme-config.yaml', import.meta.url)),
  'utf8'
)

const REAL_CIDS = [
  'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk',
  'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
  'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
]

test('the Go README example loads: its blank advertise-endpoint-* keys are unset', async (t) => {
  // Its cid-blacklist entries are placeholders, not CIDs: the Go node refused them too (go-cid
  // decodes each), so an operator copying the example puts real CIDs there.
  const copied = GO_README_LITERAL.replace('QmCID01234', REAL_CIDS[0])
    .replace('QmCID56789', REAL_CIDS[1])
    .replace('QmCIDabcde', REAL_CIDS[2])
  const dataDir = await withYaml(t, copied)
  const { config, warnings } = await loadConfig({ flags: { dataDir }, env: {} })
  assert.equal(config.advertiseEndpointUrl, '')
  assert.equal(config.advertiseEndpointToken, '')
  assert.deepEqual(warnings, [])
  assert.deepEqual(config.cidBlacklist, REAL_CIDS)
  assert.deepEqual(config.minerBlacklist, ['f01234', 'f05678'])
  assert.deepEqual(config.minerWhitelist, ['f01234'])
  assert.equal(config.pruneThresholdBytes, 1024 ** 3)
  assert.deepEqual(config.minerConfigs.f01234, {
    retrievalTimeoutMs: 150_000,
    maxConcurrentRetrievals: 2,
    maxBytesPerSecond: 0,
    firstByteTimeoutMs: 5_000,
    maxRetrievalCost: 10n ** 16n
  })
  // Byte for byte, the placeholders are the one thing refused, on their line, as Go refused them.
  const literal = await withYaml(t, GO_README_LITERAL)
  await assert.rejects(loadConfig({ flags: { dataDir: literal }, env: {} }), {
    name: 'ConfigError',
    key: 'cid-blacklist',
    line: 13,
    message: /"QmCID01234" is not a CID/
  })
})

test('a key set to nothing (null) keeps its default, for every key and miner config field', async (t) => {
  const { KEYS, MINER_KEYS } = await import('../src/index.ts')
  const yaml = [
    ...KEYS.map((k, i) => (i % 2 === 0 ? `${k.key}:` : `${k.key}: ~`)),
    'default-miner-config:',
    'miner-configs:',
    '  f01234:',
    ...MINER_KEYS.map((k) => `    ${k.key}:`)
  ].join('\n')
  const dataDir = await withYaml(t, `${yaml}\n`)
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  const { dataDir: _d, listenAddrs, minerConfigs, ...rest } = config
  const { minerConfigs: _m, ...defaults } = DEFAULTS
  assert.deepEqual(rest, defaults)
  assert.deepEqual(listenAddrs, ['/ip4/0.0.0.0/tcp/6746', '/ip4/0.0.0.0/tcp/6747/ws'])
  assert.deepEqual(minerConfigs.f01234, DEFAULTS.defaultMinerConfig)
  // A blank newer name does not clash with its older alias that is set.
  const alias = await withYaml(t, 'advertise-endpoint-url:\nestuary-url: http://127.0.0.1:1/hb\n')
  assert.equal(
    (await loadConfig({ flags: { dataDir: alias }, env: {} })).config.advertiseEndpointUrl,
    'http://127.0.0.1:1/hb'
  )
})

test('every key of an earlier Go release loads: renamed ones take effect, the others warn once by name', async (t) => {
  const old = await withYaml(
    t,
    [
      'data-dir: /root/.autoretrieve',
      'endpoint-type: estuary',
      'endpoint-url: http://127.0.0.1:9/retrieval-candidates',
      'use-fullrt: true',
      'advertise-interval: 1m',
      'event-recorder-endpoint-authorization: Basic eDp5',
      'request-workers: 4',
      'response-workers: 4',
      'retrieval-workers: 4',
      ''
    ].join('\n')
  )
  const { config, warnings } = await loadConfig({ flags: { dataDir: old }, env: {} })
  assert.equal(config.lookupEndpointType, 'estuary')
  assert.equal(config.lookupEndpointUrl, 'http://127.0.0.1:9/retrieval-candidates')
  assert.equal(config.routingTableType, 'full')
  assert.notEqual(config.dataDir, '/root/.autoretrieve')
  assert.deepEqual(
    warnings.map((w) => [w.key, w.line]),
    [
      ['data-dir', 1],
      ['advertise-interval', 5],
      ['event-recorder-endpoint-authorization', 6],
      ['request-workers', 7],
      ['response-workers', 8],
      ['retrieval-workers', 9]
    ]
  )
  for (const w of warnings) assert.match(w.message, new RegExp(`config\\.yaml:${w.line}: ${w.key}: .*no effect here`))
  const dht = await withYaml(t, 'use-fullrt: false\n')
  assert.equal((await loadConfig({ flags: { dataDir: dht }, env: {} })).config.routingTableType, 'dht')
  // A stale old key next to its newer name: the newer one wins wherever it stands, with a warning.
  const both = await withYaml(t, 'endpoint-url: http://old.example\nlookup-endpoint-url: http://new.example\n')
  const loaded = await loadConfig({ flags: { dataDir: both }, env: {} })
  assert.equal(loaded.config.lookupEndpointUrl, 'http://new.example')
  assert.deepEqual(
    loaded.warnings.map((w) => [w.key, w.line]),
    [['endpoint-url', 1]]
  )
  assert.match(loaded.warnings[0].message, /ignored, "lookup-endpoint-url" is set/)
  // An old key's value is still checked.
  const bad = await withYaml(t, 'endpoint-type: carrier-pigeon\n')
  await assert.rejects(loadConfig({ flags: { dataDir: bad }, env: {} }), { key: 'endpoint-type', line: 1 })
  // A key no release had stays an error, its hint naming a current key.
  const typo = await withYaml(t, 'use-fulrt: true\n')
  await assert.rejects(loadConfig({ flags: { dataDir: typo }, env: {} }), { name: 'ConfigError', key: 'use-fulrt' })
  const typo2 = await withYaml(t, 'lookup-endpoint-urls: http://x.example\n')
  await assert.rejects(loadConfig({ flags: { dataDir: typo2 }, env: {} }), {
    name: 'ConfigError',
    message: /lookup-endpoint-urls: unknown key \(did you mean "lookup-endpoint-url"\?\)/
  })
})

test('an explicit 0 in a miner config inherits the default, as the Go node read it', async (t) => {
  const dataDir = await withYaml(
    t,
    [
      'default-miner-config:',
      '  retrieval-timeout: 45s',
      '  max-concurrent-retrievals: 3',
      '  max-bytes-per-second: 1MiB',
      'miner-configs:',
      '  f01234:',
      '    retrieval-timeout: 0',
      '    max-concurrent-retrievals: 0',
      '    max-bytes-per-second: 0',
      '  f05678:',
      '    max-concurrent-retrievals: 7',
      ''
    ].join('\n')
  )
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  assert.deepEqual(config.minerConfigs.f01234, {
    retrievalTimeoutMs: 45_000,
    maxConcurrentRetrievals: 3,
    maxBytesPerSecond: 1024 * 1024,
    firstByteTimeoutMs: 5_000,
    maxRetrievalCost: 10n ** 16n
  })
  assert.equal(config.minerConfigs.f05678.maxConcurrentRetrievals, 7)
  // In default-miner-config itself 0 keeps its meaning (no limit).
  const zeroDefault = await withYaml(t, 'default-miner-config:\n  max-concurrent-retrievals: 0\n')
  assert.equal(
    (await loadConfig({ flags: { dataDir: zeroDefault }, env: {} })).config.defaultMinerConfig.maxConcurrentRetrievals,
    0
  )
})

test('paid retrievals: amounts as attoFIL or FIL, caps per provider or none, bad values name file:line', async (t) => {
  const fresh = (await loadConfig({ flags: { dataDir: await withYaml(t, '') }, env: {} })).config
  assert.equal(fresh.maxSpendPerDay, 10n ** 17n, 'max-spend-per-day defaults to 0.1 FIL')
  assert.equal(fresh.paychMinAvailable, 10n ** 16n)
  assert.equal(fresh.paychFundAmount, 2n * 10n ** 16n)
  assert.equal(fresh.defaultMinerConfig.maxRetrievalCost, 10n ** 16n, 'max-retrieval-cost defaults to 0.01 FIL')
  assert.equal(fresh.defaultMinerConfig.maxPricePerByte, undefined, 'no price-per-byte cap unless set')
  const dataDir = await withYaml(
    t,
    [
      'max-spend-per-day: none',
      'paych-min-available: "0.5 FIL"',
      'paych-fund-amount: 1000000',
      'max-price-per-byte: 2',
      'default-miner-config:',
      '  max-unseal-price: "0.001"',
      'miner-configs:',
      '  f01234:',
      '    max-retrieval-cost: none',
      '    max-price-per-byte: 0',
      ''
    ].join('\n')
  )
  const { config } = await loadConfig({ flags: { dataDir }, env: {} })
  assert.equal(config.maxSpendPerDay, undefined)
  assert.equal(config.paychMinAvailable, 5n * 10n ** 17n)
  assert.equal(config.paychFundAmount, 1_000_000n)
  assert.equal(config.defaultMinerConfig.maxPricePerByte, 2n, 'a top-level cap is every provider’s')
  assert.equal(config.defaultMinerConfig.maxUnsealPrice, 10n ** 15n)
  assert.equal(config.minerConfigs.f01234.maxRetrievalCost, undefined, 'none lifts the default cap for one provider')
  assert.equal(config.minerConfigs.f01234.maxPricePerByte, 0n, 'a cap of 0 is kept: free only')
  assert.equal(config.minerConfigs.f01234.maxUnsealPrice, 10n ** 15n, 'inherited from the default')
  // print-config loads back to the same values.
  const again = (await loadConfig({ flags: { dataDir: await withYaml(t, renderConfigYaml(config)) }, env: {} })).config
  assert.equal(again.maxSpendPerDay, undefined)
  assert.deepEqual(again.minerConfigs.f01234, config.minerConfigs.f01234)
  assert.deepEqual(again.defaultMinerConfig, config.defaultMinerConfig)

  for (const [yaml, line, message] of [
    ['paid-retrievals: true\nmax-spend-per-day: lots\n', 2, /max-spend-per-day: amount "lots" is not a number of FIL/],
    ['paych-fund-amount: 0.1.2\n', 1, /paych-fund-amount: amount "0.1.2" is not/],
    ['paych-fund-amount: 100000000000000000000\n', 1, /too large for a YAML number: quote it/],
    ['max-unseal-price: 1\ndefault-miner-config:\n  max-unseal-price: 2\n', 1, /same thing as default-miner-config/],
    ['miner-configs:\n  f01:\n    max-retrieval-cost: "-1"\n', 3, /miner-configs.f01.max-retrieval-cost/]
  ] as const) {
    await assert.rejects(
      loadConfig({ flags: { dataDir: await withYaml(t, yaml) }, env: {} }),
      (err: Error & { line?: number }) => {
        assert.equal(err.name, 'ConfigError')
        assert.match(err.message, message)
        assert.match(err.message, new RegExp(`config\\.yaml:${line}: `))
        return true
      }
    )
  }
})
