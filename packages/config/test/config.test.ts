import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
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

const GO_README_EXAMPLE = `advertise-endpoint-url: https://api.estuary.tech/autoretrieve/heartbeat
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

test('the Go README example loads with its values; miner configs fill in from the default', async (t) => {
  const dataDir = await withYaml(t, GO_README_EXAMPLE)
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
    firstByteTimeoutMs: 5_000
  })
  assert.deepEqual(config.minerConfigs.f05678, {
    retrievalTimeoutMs: 60_000,
    maxConcurrentRetrievals: 10,
    maxBytesPerSecond: 0,
    firstByteTimeoutMs: 5_000
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
    `${GO_README_EXAMPLE}admin-token: admin-secret\ndatabase-url: postgres://u:dbpass@127.0.0.1/db\n`
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
