import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { CLI, cliEnv, missingService, scratchDatabase, tempDataDir } from './helpers.ts'

/** util-linux `script` gives the node a pseudo-terminal: what `npm start` in a shell sees. */
const SCRIPT = spawnSync('script', ['--version']).status === 0 ? 'script' : undefined

// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are what we strip
const ANSI = /\u001b\[[0-9;]*m/g

/**
 * Runs `autoretrieve run` until its output matches `done` (bounded), then stops it (its whole
 * process group: under `script` the node is a grandchild). Returns what it wrote, colours removed.
 */
async function runUntil(
  dataDir: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { tty: boolean; done: RegExp; timeoutMs?: number }
): Promise<string> {
  args = ['--data-dir', dataDir, ...args]
  const cmd = [process.execPath, CLI, ...args, 'run'].map((a) => `'${a}'`).join(' ')
  const child = opts.tty
    ? spawn(SCRIPT!, ['-qefc', cmd, '/dev/null'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CLI, ...args, 'run'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no match for ${opts.done} in ${opts.timeoutMs ?? 60_000} ms:\n${out}`)),
        opts.timeoutMs ?? 60_000
      )
      const onData = (d: Buffer) => {
        out += d.toString()
        if (opts.done.test(plain(out))) {
          clearTimeout(timer)
          resolve()
        }
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.on('exit', (code) => {
        clearTimeout(timer)
        if (!opts.done.test(plain(out))) reject(new Error(`exited (${code}) before ${opts.done}:\n${out}`))
      })
    })
  } finally {
    // The node's own pid (its runtime file): a graceful stop, after which `script` exits quietly.
    const pid = await readFile(join(dataDir, 'node.json'), 'utf8')
      .then((t) => (JSON.parse(t) as { pid: number }).pid)
      .catch(() => undefined)
    try {
      if (pid !== undefined) process.kill(pid, 'SIGTERM')
      else process.kill(-child.pid!, 'SIGTERM')
    } catch {}
    const killer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }, 8_000)
    await exited
    clearTimeout(killer)
  }
  return plain(out)
}

/** Colours removed, and the terminal's CR LF made LF (a regex `.` stops at a CR). */
const plain = (s: string) => s.replace(ANSI, '').replace(/\r\n/g, '\n')

const START_DONE = /database .*\n[^\n]*policy .*\n/

test('on a terminal the logs are readable lines, and the start lines name peer ID, listen addresses, console with token file, and the database', async (t) => {
  if (SCRIPT === undefined) return missingService(t, 'util-linux script is not installed', 'apt-get install bsdutils')
  const dir = await tempDataDir(t)
  const env = cliEnv({ LOG_LEVEL: 'info', AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' })
  const out = await runUntil(dir, [], env, { tty: true, done: START_DONE })
  const lines = out.split('\n').filter((l) => l.trim() !== '')
  assert.ok(
    lines.every((l) => !l.trimStart().startsWith('{')),
    `no JSON line on a terminal:\n${out}`
  )
  assert.match(out, /INFO: autoretrieve is running as instance "[^"]+"/)
  assert.match(out, /peer ID +12D3Koo\w+/)
  assert.match(out, /listening +\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/)
  assert.match(out, new RegExp(`console +http://127\\.0\\.0\\.1:\\d+/ +\\(admin token: ${join(dir, 'admin-token')}\\)`))
  assert.match(out, new RegExp(`database +embedded PGlite in ${join(dir, 'db')}`))
  assert.match(out, /policy +version \d+; config\.yaml layer from instance/)
})

test('with stdout and stderr not a terminal the logs are JSON, with the start facts and the PostgreSQL URL redacted; --log-format json forces JSON on a terminal', async (t) => {
  const databaseUrl = await scratchDatabase(t)
  if (databaseUrl === undefined) return
  const withPassword = new URL(databaseUrl)
  withPassword.password = 's3cret-pw' // trust auth: accepted and ignored, so only the redaction is tested
  const dir = await tempDataDir(t)
  const env = cliEnv({ LOG_LEVEL: 'info', AUTORETRIEVE_DISABLE_RETRIEVAL: 'true' })
  const out = await runUntil(dir, ['--database-url', withPassword.toString()], env, {
    tty: false,
    done: /"msg":" {2}policy /
  })
  assert.doesNotMatch(out, /s3cret-pw/, 'the password is never logged')
  const records = out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  const start = records.find((r) => r.start !== undefined)?.start as Record<string, unknown> | undefined
  assert.ok(start, `a start record:\n${out}`)
  assert.match(start.peerId as string, /^12D3Koo/)
  assert.ok((start.listen as string[]).some((a) => a.startsWith('/ip4/127.0.0.1/tcp/')))
  assert.match(start.console as string, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  assert.equal(start.tokenFile, join(dir, 'admin-token'))
  const redacted = new URL(databaseUrl)
  redacted.password = '***'
  assert.deepEqual(start.database, { kind: 'postgres', location: redacted.toString() })

  if (SCRIPT === undefined) return missingService(t, 'util-linux script is not installed', 'apt-get install bsdutils')
  const forced = await runUntil(dir, ['--database-url', databaseUrl, '--log-format', 'json'], env, {
    tty: true,
    done: /"msg":" {2}policy /
  })
  for (const line of forced.split('\n').filter((l) => l.trim() !== '')) JSON.parse(line)
})
