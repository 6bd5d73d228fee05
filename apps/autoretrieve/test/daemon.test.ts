import assert from 'node:assert/strict'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { cliEnv, runCli, startDaemon, tempDataDir } from './helpers.ts'

test('run starts with the embedded database, answers /healthz and /readyz, and SIGTERM exits 0 promptly', async (t) => {
  const dataDir = await tempDataDir(t)
  const node = await startDaemon(t, dataDir, cliEnv())
  const health = await fetch(`${node.adminUrl}/healthz`)
  assert.equal(health.status, 200)
  const ready = await fetch(`${node.adminUrl}/readyz`)
  assert.equal(ready.status, 200, await ready.text())
  assert.equal((await stat(join(dataDir, 'admin-token'))).mode & 0o777, 0o600)
  assert.ok((await stat(join(dataDir, 'db'))).isDirectory(), 'embedded database lives in <data-dir>/db')
  const unauthorized = await fetch(`${node.adminUrl}/api/v1/anything`)
  assert.equal(unauthorized.status, 401)
  const { code, ms } = await node.stop('SIGTERM')
  assert.equal(code, 0, node.stderr())
  // README: "SIGINT/SIGTERM stop the node gracefully within 5 s" (run.ts forces exit 1 past 4.5 s).
  assert.ok(ms < 5_000, `shutdown took ${ms} ms`)
})

test('the identity survives a restart', async (t) => {
  const dataDir = await tempDataDir(t)
  const first = await startDaemon(t, dataDir, cliEnv())
  await first.stop('SIGTERM')
  const second = await startDaemon(t, dataDir, cliEnv())
  assert.equal(second.peerId, first.peerId)
  await second.stop('SIGTERM')
})

test('a port in use is a one-line error naming the address, exit 1', async (t) => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
  const port = (blocker.address() as { port: number }).port
  const dataDir = await tempDataDir(t)
  const res = await runCli(['--data-dir', dataDir, '--admin-listen', `127.0.0.1:${port}`, 'run'], cliEnv(), 60_000)
  assert.equal(res.code, 1, res.stderr)
  assert.match(res.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*in use`))
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace')
  const libp2pRes = await runCli(
    ['--data-dir', dataDir, '--listen', `/ip4/127.0.0.1/tcp/${port}`, 'run'],
    cliEnv(),
    60_000
  )
  assert.equal(libp2pRes.code, 1)
  assert.match(libp2pRes.stderr, new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/${port}.*in use`))
})

test('an unwritable data dir is a one-line error naming it', async (t) => {
  // A path under a regular file can be created by no one, not even root.
  const base = await tempDataDir(t)
  await mkdir(dirname(base), { recursive: true })
  const file = join(dirname(base), 'not-a-dir')
  await writeFile(file, 'x')
  const res = await runCli(['--data-dir', join(file, 'data'), 'run'], cliEnv(), 30_000)
  assert.notEqual(res.code, 0)
  assert.ok(res.stderr.includes(join(file, 'data')), res.stderr)
  assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr)
})
