import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { CLI, cliEnv, runCli, tempDataDir } from './helpers.ts'

/** The CLI with `input` on stdin (runCli's child has none). */
function runWithStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`autoretrieve ${args.join(' ')} did not finish\n${stderr}`))
    }, 30_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(input)
  })
}

test('wallet new / list / default / export / import through the CLI, keys at 0600 in a 0700 dir', async (t) => {
  const dataDir = await tempDataDir(t)
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, 'wallet', ...args], cliEnv())
  const first = await cli('new')
  assert.equal(first.code, 0, first.stderr)
  const { address: a } = JSON.parse(first.stdout) as { address: string }
  assert.match(a, /^f1[a-z2-7]{39}$/)
  const second = await cli('new')
  const { address: b } = JSON.parse(second.stdout) as { address: string }
  assert.match(second.stderr, new RegExp(`${b} is now the default key, in place of ${a}`))
  assert.deepEqual(
    JSON.parse((await cli('list')).stdout),
    [
      { address: a, default: false },
      { address: b, default: true }
    ].sort((x, y) => x.address.localeCompare(y.address)),
    'a new key becomes the default'
  )
  assert.deepEqual(JSON.parse((await cli('default')).stdout), { address: b })
  assert.equal((await cli('default', a)).code, 0)
  assert.deepEqual(JSON.parse((await cli('default')).stdout), { address: a })

  const dir = join(dataDir, 'wallet')
  assert.equal((await stat(dir)).mode & 0o777, 0o700)
  for (const f of await readdir(dir)) assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f)

  // export prints `lotus wallet export` hex; import (file or stdin) into another data dir gives the same address.
  const exported = await cli('export', a)
  assert.equal(exported.code, 0, exported.stderr)
  const hex = exported.stdout.trim()
  assert.match(Buffer.from(hex, 'hex').toString(), /^\{"Type":"secp256k1","PrivateKey":"[A-Za-z0-9+/=]+"\}$/)
  const other = await tempDataDir(t)
  const file = join(other, '..', 'key.hex')
  await writeFile(file, `${hex}\n`)
  const imported = await runCli(['--data-dir', other, 'wallet', 'import', file], cliEnv())
  assert.equal(imported.code, 0, imported.stderr)
  assert.deepEqual(JSON.parse(imported.stdout), { address: a, default: true })
  const viaStdin = await runWithStdin(['--data-dir', other, 'wallet', 'import', '-'], hex)
  assert.deepEqual(JSON.parse(viaStdin.stdout), { address: a, default: true }, 'importing again changes nothing')

  // No key in print-config or on stderr of any command.
  const key = JSON.parse(Buffer.from(hex, 'hex').toString()).PrivateKey as string
  const printed = await runCli(['--data-dir', dataDir, 'print-config'], cliEnv())
  assert.ok(!printed.stdout.includes(key))
  for (const r of [first, second, imported, viaStdin]) assert.ok(!r.stderr.includes(key) && !r.stderr.includes(hex))
  assert.ok(!(await readFile(join(dataDir, 'config.yaml'), 'utf8')).includes(key))
})

test('wallet: bad input is exit 2 saying what; no default or unknown key is exit 1', async (t) => {
  const dataDir = await tempDataDir(t)
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, 'wallet', ...args], cliEnv())
  const none = await cli('default')
  assert.equal(none.code, 1)
  assert.match(none.stderr, /has no default key; run `autoretrieve wallet new`/)
  const bad = await cli('export', 'f1nope')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /wallet export: "f1nope" is not a Filecoin address/)
  const missing = await cli('export', 'f1ghrejg5rcic6csaduor6ak4wcgj7ikrrxxo72my')
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /no key for f1ghrejg5rcic6csaduor6ak4wcgj7ikrrxxo72my/)
  const file = join(dataDir, '..', 'junk')
  await writeFile(file, 'zz not hex')
  const junk = await cli('import', file)
  assert.equal(junk.code, 2)
  assert.match(junk.stderr, /wallet import: exported key is not hex/)
})
