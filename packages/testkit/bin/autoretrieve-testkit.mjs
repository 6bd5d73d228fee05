#!/usr/bin/env node
// The `autoretrieve-testkit` bin: stand-ins for the outside world on loopback. TypeScript run by
// Node's type stripping (>= 22.18); on an older Node, the repository's bootstrapped runtime.
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
      'autoretrieve-testkit: needs Node.js >= 22.18; run `npm test` or `npm start` once to bootstrap one\n'
    )
    process.exit(2)
  }
  const child = spawn(runtimeNode, [cli, ...process.argv.slice(2)], { stdio: 'inherit' })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code) => process.exit(code ?? 1))
}
