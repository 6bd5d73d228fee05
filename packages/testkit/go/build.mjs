// Builds the Go test peers (kubo, the go-graphsync responder) that the interop tests and benches
// run. Each directory beside this file holding a target.json ({ "binary", "package" }) is its own
// Go module with pinned versions (kubo's and go-graphsync's dependency sets conflict, so they
// cannot share one go.mod). A build lands in a cache that later runs reuse:
//   ${AUTORETRIEVE_GO_CACHE:-~/.cache/autoretrieve/go}/<binary>-<hash>
// where the hash covers the directory's files (go.mod, go.sum, sources, target.json) and
// `go version`, so a changed pin or a new Go rebuilds and nothing else does.
//
//   node build.mjs                 build every target (prints what it builds and how long it took)
//   node build.mjs --print <name>  build one target (by directory or binary name) and print its
//                                  path on stdout; logs go to stderr
// Without Go on PATH it says that Go is needed and exits 0 (the interop tests then fail saying so).
// Plain Node, no dependencies: scripts/test.mjs runs it before the tests.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
export const GO_NEEDED =
  'Go is needed for the interop tests: install Go >= 1.22 (https://go.dev/dl/; a Go older than 1.26.5 fetches the toolchain kubo v0.43.1 asks for) and put `go` on PATH'

export function cacheDir() {
  return process.env.AUTORETRIEVE_GO_CACHE || join(homedir(), '.cache', 'autoretrieve', 'go')
}

/** `go version`, or undefined when Go is not on PATH. */
export function goVersion() {
  const res = spawnSync('go', ['version'], { encoding: 'utf8' })
  if (res.error || res.status !== 0) return undefined
  return res.stdout.trim()
}

/** Every directory here with a target.json, as { dir, binary, package }. */
export function targets() {
  return readdirSync(HERE, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(HERE, e.name, 'target.json')))
    .map((e) => {
      const dir = join(HERE, e.name)
      const target = JSON.parse(readFileSync(join(dir, 'target.json'), 'utf8'))
      if (typeof target.binary !== 'string' || typeof target.package !== 'string')
        throw new Error(`${dir}/target.json: needs { "binary": string, "package": string }`)
      return { name: e.name, dir, binary: target.binary, package: target.package }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('.')) return []
    const path = join(dir, e.name)
    return e.isDirectory() ? filesUnder(path) : [path]
  })
}

/** The cache path for a target: its binary name and a hash of its files and the Go version. */
export function binaryPath(target, version) {
  const hash = createHash('sha256').update(version)
  for (const file of filesUnder(target.dir).sort()) {
    hash.update(`\0${relative(target.dir, file)}\0`)
    hash.update(readFileSync(file))
  }
  return join(cacheDir(), `${target.binary}-${hash.digest('hex').slice(0, 16)}`)
}

/** Builds the target unless its cache entry exists; returns the binary's path. */
export function build(target, version, log = (line) => process.stdout.write(`${line}\n`)) {
  const out = binaryPath(target, version)
  if (existsSync(out) && statSync(out).size > 0) {
    log(`${target.binary}: cached at ${out}`)
    return out
  }
  mkdirSync(dirname(out), { recursive: true })
  // Build beside the final name and rename, so a concurrent run never sees half a binary.
  const tmp = `${out}.tmp-${process.pid}`
  log(`${target.binary}: building ${target.package} (${relative(process.cwd(), target.dir) || '.'}, ${version})`)
  const started = Date.now()
  const res = spawnSync('go', ['build', '-trimpath', '-o', tmp, target.package], {
    cwd: target.dir,
    // go's output on stderr: with --print, stdout carries only the path.
    stdio: ['ignore', 2, 2],
    env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() }
  })
  if (res.status !== 0) {
    rmSync(tmp, { force: true })
    throw new Error(`${target.binary}: go build failed (exit ${res.status ?? res.signal})`)
  }
  renameSync(tmp, out)
  log(`${target.binary}: built in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${out}`)
  return out
}

function main(argv) {
  const version = goVersion()
  const printIndex = argv.indexOf('--print')
  if (version === undefined) {
    process.stderr.write(`${GO_NEEDED}\n`)
    process.exit(printIndex >= 0 ? 3 : 0)
  }
  if (printIndex >= 0) {
    const name = argv[printIndex + 1]
    const target = targets().find((t) => t.name === name || t.binary === name)
    if (target === undefined) {
      process.stderr.write(`no Go test peer named ${name} under ${HERE}\n`)
      process.exit(2)
    }
    process.stdout.write(`${build(target, version, (line) => process.stderr.write(`${line}\n`))}\n`)
    return
  }
  for (const target of targets()) build(target, version)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
}
