// The README's test command runs this (through scripts/bootstrap.mjs, so Node >= 22.18 and the
// dependencies are in place): format/lint, type-check, the dependency check, then every test file
// on node:test.
//   --only-static   lint, type-check and the dependency check only
//   --no-static     tests only
//   any other args  test files or globs to run instead of all
// A skipped test fails the run: tests that need PostgreSQL (AUTORETRIEVE_TEST_POSTGRES_URL,
// default postgres://postgres@127.0.0.1:5432/postgres) or Chromium (/usr/bin/chromium) fail
// without them, saying how to provide them. A developer without them sets
// AUTORETRIEVE_TEST_ALLOW_SKIP=1: those tests then skip, and skips pass; never in CI (CI=true).
import { spawnSync } from 'node:child_process'
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const onlyStatic = args.includes('--only-static')
const noStatic = args.includes('--no-static')
const selected = args.filter((a) => !a.startsWith('--'))
const inCi = ['true', '1'].includes(process.env.CI ?? '')
const allowSkip = process.env.AUTORETRIEVE_TEST_ALLOW_SKIP === '1' && !inCi

function step(name, cmd, cmdArgs) {
  process.stdout.write(`\n== ${name}\n`)
  const res = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: ROOT })
  return res.status === 0
}

const bin = (name) => join(ROOT, 'node_modules', '.bin', name)
let ok = true
if (!noStatic) {
  ok = step('biome (format + lint)', bin('biome'), ['check', '.']) && ok
  ok = step('typescript (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']) && ok
  // knip.json: a dependency declared and never imported, an import not declared, a package whose
  // entry file is missing. Run twice: over sources and tests, then over each workspace's sources
  // alone (--strict), because the first run lets a workspace lean on the root's manifest and on
  // sibling workspace packages it does not declare.
  ok = step('dependencies (knip)', bin('knip'), ['--no-progress']) && ok
  ok =
    step('dependencies (knip --strict, sources alone)', bin('knip'), [
      '--no-progress',
      '--strict',
      '--exclude',
      'dependencies'
    ]) && ok
}
if (onlyStatic) process.exit(ok ? 0 : 1)

// The dashboard test drives Debian's Chromium. Install it once where we can (root, Debian);
// elsewhere the browser test fails saying what is missing (or skips, with the opt-out).
if (!existsSync('/usr/bin/chromium') && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
  process.stdout.write('\n== installing Chromium for the dashboard test (apt-get)\n')
  const apt = (a) =>
    spawnSync('apt-get', a, {
      stdio: 'inherit',
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    })
  if (
    apt(['update', '-qq']).status !== 0 ||
    apt(['install', '-y', '-qq', '--no-install-recommends', 'chromium']).status !== 0
  ) {
    process.stdout.write(
      `could not install Chromium; the dashboard test will ${allowSkip ? 'skip' : 'fail (AUTORETRIEVE_TEST_ALLOW_SKIP=1 skips it)'}\n`
    )
  }
}

// The interop tests run kubo and the go-graphsync responder, built from packages/testkit/go
// once into a cache that later runs reuse (the tests build on demand too, and fail without Go).
if (spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0) {
  ok = step('go test peers (build once, cached)', process.execPath, ['packages/testkit/go/build.mjs']) && ok
}

const files =
  selected.length > 0
    ? selected.flatMap((g) => globSync(g, { cwd: ROOT }))
    : globSync('{apps,packages}/*/test/**/*.test.ts', { cwd: ROOT }).sort()
if (files.length === 0) {
  process.stdout.write('no test files found\ntests: 0 passed, 1 failed, 0 skipped\n')
  process.exit(1)
}
process.stdout.write(`\n== node:test (${files.length} files)\n`)
// The spec reporter prints as tests run; the summary reporter writes to a file, printed (and read)
// here once the run ends, so that its line closes the output.
const scratch = mkdtempSync(join(tmpdir(), 'autoretrieve-test-run-'))
const summaryFile = join(scratch, 'summary.txt')
const res = spawnSync(
  process.execPath,
  [
    '--test',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    '--test-timeout=120000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(ROOT, 'scripts/summary-reporter.mjs')}`,
    `--test-reporter-destination=${summaryFile}`,
    ...files
  ],
  { stdio: 'inherit', cwd: ROOT }
)
const summary = existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8').split('\n').filter(Boolean) : []
rmSync(scratch, { recursive: true, force: true })
const summaryLine = summary.findLast((l) => l.startsWith('tests: '))
process.stdout.write('\n')
for (const line of summary) if (line !== summaryLine) process.stdout.write(`${line}\n`) // the skipped tests
const skipped = Number(/ (\d+) skipped/.exec(summaryLine ?? '')?.[1] ?? 0)
const skipsFail = skipped > 0 && !allowSkip
if (!ok) process.stdout.write('static checks failed (see above)\n')
if (summaryLine === undefined) process.stdout.write('the test runner printed no summary (see above)\n')
if (skipsFail) {
  process.stdout.write(
    `${skipped} test(s) skipped (listed above): a skip fails this run${inCi ? ' in CI' : ''}. ` +
      (inCi
        ? 'Provide what they need.\n'
        : 'Provide what they need, or set AUTORETRIEVE_TEST_ALLOW_SKIP=1 to let them skip.\n')
  )
}
// The closing line.
if (summaryLine !== undefined) process.stdout.write(`${summaryLine}\n`)
process.exit(ok && res.status === 0 && summaryLine !== undefined && !skipsFail ? 0 : 1)
