#!/usr/bin/env node
// The `autoretrieve` bin. The CLI is TypeScript run by Node's own type stripping (Node >= 22.18).
// On an older Node (this launcher itself runs on anything >= 18) it re-executes the CLI with the
// Node that scripts/bootstrap.mjs installed into the repository's .runtime/.
import { spawn } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(realpathSync(fileURLToPath(import.meta.url)))
const cli = join(here, '..', 'src', 'cli.ts')
const [maj, min] = process.versions.node.split('.').map(Number)

if (maj > 22 || (maj === 22 && min >= 18)) {
  await import(pathToFileURL(cli).href)
} else {
  const runtimeNode = join(here, '..', '..', '..', '.runtime', 'bin', 'node')
  if (!existsSync(runtimeNode)) {
    process.stderr.write(
      `autoretrieve: Node.js ${process.version} is too old (need >= 22.18) and no bootstrapped runtime was found.\n` +
        'Run `npm start` (or `node scripts/bootstrap.mjs install`) in the repository once, or install Node.js 24.\n'
    )
    process.exit(2)
  }
  const child = spawn(runtimeNode, [cli, ...process.argv.slice(2)], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
