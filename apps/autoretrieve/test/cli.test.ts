import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startLotus } from '@autoretrieve/testkit'
import { adminApi, cliEnv, runCli, startDaemon, tempDataDir } from './helpers.ts'

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

test('a Go config with every key set loads; print-config shows its values with the secret redacted', async (t) => {
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

/** The YAML example of the Go autoretrieve's README (its last commit, fd80e5e), byte for byte. */
const GO_README_EXAMPLE = readFileSync(
  fileURLToPath(new URL('../../../test-vectors/go-autoretrieve/readme-config.yaml', import.meta.url)),
  'utf8'
)

test('the Go README example starts the node; its miners resolve through Lotus', async (t) => {
  // The example's cid-blacklist entries are placeholders the Go node refused as well (go-cid
  // decodes each); byte for byte, they are the one thing refused, naming the line.
  const literal = await tempDataDir(t)
  await mkdir(literal, { recursive: true })
  await writeFile(join(literal, 'config.yaml'), GO_README_EXAMPLE)
  const refused = await runCli(['--data-dir', literal, 'print-config'], cliEnv())
  assert.equal(refused.code, 2)
  assert.match(refused.stderr, /config\.yaml:13: cid-blacklist: "QmCID01234" is not a CID/)

  // With real CIDs in their place, as an operator fills it in, the node starts: the blank
  // advertise-endpoint-url and -token are unset (no heartbeat), the f0 addresses resolve.
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(
    join(dataDir, 'config.yaml'),
    GO_README_EXAMPLE.replace('QmCID01234', 'QmYhmPjhFjYFyaoiuNzYv8WGavpSRDwdHWe5B4M5du5Rtk')
      .replace('QmCID56789', 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
      .replace('QmCIDabcde', 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
  )
  const lotus = await startLotus({
    miners: {
      f01234: { peerId: '12D3KooWLSsGxYdAJcUdr4aKaKD8PFyUxHgaPaRcb2cUV2btUkSr', multiaddrs: [] },
      f05678: { peerId: '12D3KooWRFPmkKmdL3nJzVbS2uhUDDyqBdmqFkntFpWKGwCKiNrZ', multiaddrs: [] }
    }
  })
  t.after(() => lotus.close())
  // Loopback only: the example's cid.contact is not asked (nothing is retrieved here).
  const node = await startDaemon(t, dataDir, cliEnv({ FULLNODE_API_INFO: lotus.apiInfo }))
  assert.equal((await fetch(`${node.adminUrl}/readyz`)).status, 200)
  const heartbeat = await adminApi(node, 'GET', '/api/v1/heartbeat')
  assert.equal((heartbeat.body as { state?: string }).state, 'disabled', JSON.stringify(heartbeat.body))
  const policy = await adminApi<{ minerBlacklist: Array<{ provider: string; resolution: { state: string } }> }>(
    node,
    'GET',
    '/api/v1/policy'
  )
  assert.deepEqual(
    policy.body.minerBlacklist.map((e) => [e.provider, e.resolution.state]),
    [
      ['f01234', 'resolved'],
      ['f05678', 'resolved']
    ]
  )
  assert.doesNotMatch(node.stderr(), /"level":(40|50)/, 'no warning or error at start')
  const { code } = await node.stop('SIGTERM')
  assert.equal(code, 0)
})

test('a key of an earlier Go release loads with one warning naming it; one no release had exits 2', async (t) => {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true })
  await writeFile(
    join(dataDir, 'config.yaml'),
    'endpoint-url: http://old.example\nadvertise-interval: 1m\ninstance-name: x\n'
  )
  const res = await runCli(['--data-dir', dataDir, 'print-config'], cliEnv())
  assert.equal(res.code, 0, res.stderr)
  assert.match(res.stdout, /lookup-endpoint-url: http:\/\/old\.example/)
  const warnings = res.stderr.split('\n').filter((l) => l.startsWith('warning:'))
  assert.equal(warnings.length, 1, res.stderr)
  assert.match(warnings[0], /config\.yaml:2: advertise-interval: a Go autoretrieve key with no effect here/)
  await writeFile(join(dataDir, 'config.yaml'), 'advertize-interval: 1m\n')
  const typo = await runCli(['--data-dir', dataDir, 'print-config'], cliEnv())
  assert.equal(typo.code, 2)
  assert.match(typo.stderr, /advertize-interval: unknown key/)
})
