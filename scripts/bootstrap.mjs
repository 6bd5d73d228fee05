#!/usr/bin/env node
// Bootstrap: make the README's two commands work on a machine that only has an old Node.js
// (this project needs >= 22.18 for libp2p 3 and native TypeScript type stripping) and npm.
//
// Runs on any Node >= 18 with no dependencies. It:
//   1. picks a Node.js: the current one if new enough, else the `node-<platform>-<arch>` package
//      from the npm registry, installed once into .runtime/ (a binary shipped in a registry
//      package, not a download from elsewhere);
//   2. installs the pinned pnpm (from `packageManager`) into .runtime/ with npm;
//   3. runs `pnpm install --frozen-lockfile` when the lockfile changed since the last install;
//   4. runs the requested task with .runtime/bin first on PATH.
// A user who already has Node 24 and pnpm pays one version check and one stamp comparison.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const RUNTIME = join(ROOT, '.runtime')
const RUNTIME_BIN = join(RUNTIME, 'bin')
// Node 24 LTS; bump together with docker/Dockerfile.
const NODE_VERSION = '24.21.0'
const MIN_NODE = [22, 18]

const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const PNPM_VERSION = rootPkg.packageManager.replace(/^pnpm@/, '')

function log(msg) {
  process.stderr.write(`bootstrap: ${msg}\n`)
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts })
  if (res.error) throw res.error
  return res.status ?? 1
}

function must(cmd, args, opts) {
  const code = run(cmd, args, opts)
  if (code !== 0) {
    log(`'${cmd} ${args.join(' ')}' failed with exit code ${code}`)
    process.exit(code)
  }
}

function nodeIsRecent(version) {
  const [maj, min] = version.replace(/^v/, '').split('.').map(Number)
  return maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1])
}

function npmInstallInto(prefix, spec) {
  mkdirSync(prefix, { recursive: true })
  if (!existsSync(join(prefix, 'package.json'))) writeFileSync(join(prefix, 'package.json'), '{"private":true}\n')
  must('npm', [
    'install',
    '--prefix',
    prefix,
    '--no-save',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--loglevel=error',
    spec
  ])
}

function ensureNode() {
  if (nodeIsRecent(process.version)) return process.execPath
  const pkg = `node-${process.platform}-${process.arch}`
  const dir = join(RUNTIME, 'node')
  const bin = join(dir, 'node_modules', pkg, 'bin', 'node')
  if (!existsSync(bin) || spawnSync(bin, ['--version']).stdout?.toString().trim() !== `v${NODE_VERSION}`) {
    log(
      `Node ${process.version} is too old (need >= ${MIN_NODE.join('.')}); installing ${pkg}@${NODE_VERSION} from the npm registry into .runtime/`
    )
    npmInstallInto(dir, `${pkg}@${NODE_VERSION}`)
  }
  return bin
}

function ensurePnpm(node) {
  const dir = join(RUNTIME, 'pnpm')
  const cli = join(dir, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs')
  let ok = false
  if (existsSync(cli)) {
    const v = spawnSync(node, [cli, '--version']).stdout?.toString().trim()
    ok = v === PNPM_VERSION
  }
  if (!ok) {
    log(`installing pnpm@${PNPM_VERSION} into .runtime/`)
    npmInstallInto(dir, `pnpm@${PNPM_VERSION}`)
  }
  return cli
}

function writeShims(node, pnpmCli) {
  mkdirSync(RUNTIME_BIN, { recursive: true })
  const nodeLink = join(RUNTIME_BIN, 'node')
  rmSync(nodeLink, { force: true })
  symlinkSync(node, nodeLink)
  const pnpmShim = join(RUNTIME_BIN, 'pnpm')
  writeFileSync(pnpmShim, `#!/bin/sh\nexec "${node}" "${pnpmCli}" "$@"\n`, { mode: 0o755 })
}

function ensureInstalled(env) {
  const lock = join(ROOT, 'pnpm-lock.yaml')
  const stampFile = join(ROOT, 'node_modules', '.bootstrap-stamp')
  const manifests = [lock, join(ROOT, 'package.json'), join(ROOT, 'pnpm-workspace.yaml')]
  const hash = createHash('sha256')
  for (const f of manifests) if (existsSync(f)) hash.update(readFileSync(f))
  hash.update(process.version)
  const want = hash.digest('hex')
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want) return
  log('installing dependencies with pnpm')
  const frozen = existsSync(lock) ? ['--frozen-lockfile'] : []
  must(join(RUNTIME_BIN, 'pnpm'), ['install', ...frozen, '--reporter=append-only'], { env })
  writeFileSync(stampFile, want)
}

const [task = 'start', ...rest] = process.argv.slice(2)
const node = ensureNode()
const pnpmCli = ensurePnpm(node)
writeShims(node, pnpmCli)
const env = { ...process.env, PATH: `${RUNTIME_BIN}:${process.env.PATH}` }
ensureInstalled(env)

const tasks = {
  // The node, with defaults: embedded database, data dir ~/.autoretrieve.
  start: [node, [join(ROOT, 'apps/autoretrieve/src/cli.ts'), ...(rest.length ? rest : ['run'])]],
  test: [node, [join(ROOT, 'scripts/test.mjs'), ...rest]],
  lint: [node, [join(ROOT, 'scripts/test.mjs'), '--only-static', ...rest]],
  bench: [node, [join(ROOT, 'bench/run.ts'), ...rest]],
  // Anything else: run it with the bootstrapped runtime on PATH (e.g. `exec pnpm add x`).
  exec: [rest[0], rest.slice(1)],
  install: null
}
if (!(task in tasks)) {
  log(`unknown task '${task}' (one of: ${Object.keys(tasks).join(', ')})`)
  process.exit(2)
}
if (tasks[task] === null) process.exit(0)
const [cmd, args] = tasks[task]
// Async spawn so that SIGINT/SIGTERM sent to this process reach the node (graceful shutdown).
const child = spawn(cmd, args, { stdio: 'inherit', cwd: ROOT, env })
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
child.on('error', (err) => {
  log(err.message)
  process.exit(1)
})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
