// `npm run bench -- <name> [args]`: runs bench/<name>/run.ts (serve, miss, graphsync, admin, kubo, hostile, footprint; ab for A/B runs).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const [name, ...args] = process.argv.slice(2)
const script = name ? fileURLToPath(new URL(`./${name}/run.ts`, import.meta.url)) : ''
if (!name || !existsSync(script)) {
  process.stderr.write('usage: npm run bench -- <serve|miss|graphsync|admin|kubo|hostile|footprint|ab> [args]\n')
  process.exit(2)
}
process.exit(spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' }).status ?? 1)
