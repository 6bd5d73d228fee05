import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { cliEnv, runCli, startDaemon, tempDataDir } from './helpers.ts'

test('paid-retrievals without a wallet key starts with payments off and says how; with one it pays from it', async (t) => {
  const dataDir = await tempDataDir(t)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await writeFile(join(dataDir, 'config.yaml'), 'paid-retrievals: true\n', { mode: 0o600 })
  const env = cliEnv({ LOG_LEVEL: 'info', AUTORETRIEVE_LOG_FORMAT: 'json' })
  const first = await startDaemon(t, dataDir, env)
  await first.stop('SIGTERM')
  assert.match(first.stderr(), /the wallet has no default key: paid retrievals are off .*`autoretrieve wallet new`/)
  assert.doesNotMatch(first.stderr(), /cannot pay yet/)

  const made = await runCli(['--data-dir', dataDir, 'wallet', 'new'], env)
  const { address } = JSON.parse(made.stdout) as { address: string }
  const second = await startDaemon(t, dataDir, env)
  // The embedded database is the running node's: paych commands refuse rather than open it too.
  const beside = await runCli(['--data-dir', dataDir, 'paych', 'list'], env)
  assert.equal(beside.code, 2)
  assert.match(beside.stderr, /a node is running on .* with the embedded database.*stop it first/)
  await second.stop('SIGTERM')
  const on = second
    .stderr()
    .split('\n')
    .filter((l) => l.includes('paid retrievals on'))
  assert.equal(on.length, 1, second.stderr())
  assert.equal(JSON.parse(on[0]).wallet, address)
  assert.doesNotMatch(second.stderr(), /no default key/)
  // The key never reaches the logs.
  for (const file of await readdir(join(dataDir, 'wallet'))) {
    const key = JSON.parse(await readFile(join(dataDir, 'wallet', file), 'utf8')).PrivateKey as string
    assert.ok(!first.stderr().includes(key) && !second.stderr().includes(key))
  }
})
