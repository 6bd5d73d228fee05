import assert from 'node:assert/strict'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { cliEnv, runCli, tempDataDir } from './helpers.ts'

const GO_EXAMPLE = `advertise-endpoint-url: https://api.estuary.tech/autoretrieve/heartbeat
advertise-endpoint-token: secret-token-value
heartbeat-interval: 30s
lookup-endpoint-type: indexer
lookup-endpoint-url: https://cid.contact
max-bitswap-workers: 4
routing-table-type: dht
prune-threshold: 1GiB
pin-duration: 1h
log-resource-manager: false
log-retrieval-stats: false
disable-retrieval: false
cid-blacklist:
  - QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk
miner-blacklist:
  - f01
miner-whitelist: []
event-recorder-endpoint-url: ""
instance-name: edge-1
default-miner-config:
  retrieval-timeout: 1m
  max-concurrent-retrievals: 1
miner-configs:
  f01234:
    retrieval-timeout: 2m30s
    max-concurrent-retrievals: 3
  f05678:
    max-concurrent-retrievals: 10
`

test('gen-config --stdout lists every config key of the operator contract', async () => {
  const res = await runCli(['gen-config', '--stdout'], cliEnv())
  assert.equal(res.code, 0, res.stderr)
  for (const key of [
    'advertise-endpoint-url',
    'advertise-endpoint-token',
    'heartbeat-interval',
    'lookup-endpoint-type',
    'lookup-endpoint-url',
    'max-bitswap-workers',
    'routing-table-type',
    'prune-threshold',
    'pin-duration',
    'log-resource-manager',
    'log-retrieval-stats',
    'disable-retrieval',
    'paid-retrievals',
    'cid-blacklist',
    'miner-blacklist',
    'miner-whitelist',
    'default-miner-config',
    'retrieval-timeout',
    'max-concurrent-retrievals',
    'miner-configs',
    'event-recorder-endpoint-url',
    'instance-name',
    'database-url',
    'admin-listen',
    'admin-token',
    'listen-addrs',
    'retrieval-protocols',
    'max-bytes-per-second',
    'first-byte-timeout'
  ]) {
    assert.match(res.stdout, new RegExp(`^\\s*${key}:`, 'm'), `gen-config lacks ${key}`)
  }
})

test('the Go README example loads; print-config shows its values with the secret redacted', async (t) => {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), GO_EXAMPLE)
  const res = await runCli(['--data-dir', dataDir, 'print-config'], cliEnv())
  assert.equal(res.code, 0, res.stderr)
  assert.match(res.stdout, /max-bitswap-workers: 4/)
  assert.match(res.stdout, /instance-name: edge-1/)
  assert.match(res.stdout, /prune-threshold: .*(1GiB|1073741824|1\.0 GiB)/)
  assert.match(res.stdout, /f01234:/)
  assert.match(res.stdout, /f05678:/)
  assert.doesNotMatch(res.stdout, /secret-token-value/)
})

test('an environment variable beats the YAML and a flag beats the environment', async (t) => {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), 'lookup-endpoint-url: http://yaml.example\n')
  const yamlOnly = await runCli(['--data-dir', dataDir, 'print-config'], cliEnv())
  assert.match(yamlOnly.stdout, /lookup-endpoint-url: http:\/\/yaml\.example/)
  const env = cliEnv({ AUTORETRIEVE_LOOKUP_ENDPOINT_URL: 'http://env.example' })
  const fromEnv = await runCli(['--data-dir', dataDir, 'print-config'], env)
  assert.match(fromEnv.stdout, /lookup-endpoint-url: http:\/\/env\.example/)
  const fromFlag = await runCli(
    ['--data-dir', dataDir, '--lookup-endpoint-url', 'http://flag.example', 'print-config'],
    env
  )
  assert.match(fromFlag.stdout, /lookup-endpoint-url: http:\/\/flag\.example/)
})

test('an invalid value exits 2 naming the key, the file and the line', async (t) => {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(join(dataDir, 'config.yaml'), 'instance-name: x\nprune-threshold: lots\n')
  const res = await runCli(['--data-dir', dataDir, 'print-config'], cliEnv())
  assert.equal(res.code, 2)
  assert.match(res.stderr, /config\.yaml:2/)
  assert.match(res.stderr, /prune-threshold/)
  assert.equal(res.stderr.trim().split('\n').length, 1, `expected one line, got:\n${res.stderr}`)
})

test('gen-config writes into the data dir (0700) and refuses to overwrite without --force', async (t) => {
  const dataDir = await tempDataDir(t)
  const first = await runCli(['--data-dir', dataDir, 'gen-config'], cliEnv())
  assert.equal(first.code, 0, first.stderr)
  assert.match(await readFile(join(dataDir, 'config.yaml'), 'utf8'), /lookup-endpoint-url/)
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
  const again = await runCli(['--data-dir', dataDir, 'gen-config'], cliEnv())
  assert.equal(again.code, 2)
  const forced = await runCli(['--data-dir', dataDir, 'gen-config', '--force'], cliEnv())
  assert.equal(forced.code, 0, forced.stderr)
})

test('id prints the same peer ID every time, from a peerkey kept at mode 0600', async (t) => {
  const dataDir = await tempDataDir(t)
  const a = await runCli(['--data-dir', dataDir, 'id'], cliEnv())
  assert.equal(a.code, 0, a.stderr)
  const first = JSON.parse(a.stdout)
  assert.match(first.peerId, /^12D3KooW/)
  assert.ok(first.addrs.every((x: string) => x.endsWith(`/p2p/${first.peerId}`)))
  const b = JSON.parse((await runCli(['--data-dir', dataDir, 'id'], cliEnv())).stdout)
  assert.equal(b.peerId, first.peerId)
  assert.equal((await stat(join(dataDir, 'peerkey'))).mode & 0o777, 0o600)
})

test('an unknown command or flag is a usage error with exit code 2', async () => {
  assert.equal((await runCli(['no-such-command'], cliEnv())).code, 2)
  assert.equal((await runCli(['--no-such-flag'], cliEnv())).code, 2)
})
