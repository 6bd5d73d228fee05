// The embedded database's memory, step by step: one JSON line per step with VmHWM (peak) and VmRSS,
// the peak reset after each step (/proc/self/clear_refs), so each line's peak is that step's own.
// Each lever is an environment variable, so one case runs per process (README, design notes):
//   TIERUP=1      leave V8's wasm tier-up on (off in the store)
//   DEFAULTS=1    PGlite's default start parameters instead of the store's EMBEDDED_SETTINGS
//   SEED=0        no seed: a first start runs initdb
//   IDLE_S=10     seconds to stay idle after the migrations (the tier-up spike shows there)
//   node scripts/footprint-steps.ts <database dir: empty for a first start, the same again for a warm one>
import { readFile, writeFile } from 'node:fs/promises'
import { setFlagsFromString } from 'node:v8'

const started = performance.now()
let last = started
async function step(name: string): Promise<void> {
  const s = await readFile('/proc/self/status', 'utf8')
  const mib = (k: string) => Math.round(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024)
  const now = performance.now()
  console.log(JSON.stringify({ step: name, ms: Math.round(now - last), peakMiB: mib('VmHWM'), rssMiB: mib('VmRSS') }))
  last = now
  await writeFile('/proc/self/clear_refs', '5')
}

const dir = process.argv[2]
if (!dir) throw new Error('usage: footprint-steps.ts <database dir>')
await step('node')
const { drizzle } = await import('drizzle-orm/pglite')
const { migrate } = await import('drizzle-orm/pglite/migrator')
await step('import drizzle')
const { PGlite } = await import('@electric-sql/pglite')
const { embeddedStartParams, SEED_FILE } = await import('../src/embedded.ts')
const { MIGRATIONS_FOLDER } = await import('../src/connect.ts')
await step('import pglite')
if (!process.env.TIERUP) {
  setFlagsFromString('--no-wasm-dynamic-tiering')
  setFlagsFromString('--no-wasm-tier-up')
}
const fresh = !(await readFile(`${dir}/PG_VERSION`).catch(() => undefined))
const loadDataDir = fresh && process.env.SEED !== '0' ? new Blob([await readFile(SEED_FILE)]) : undefined
const pg = new PGlite(dir, { startParams: process.env.DEFAULTS ? undefined : embeddedStartParams(), loadDataDir })
await pg.waitReady
await step(fresh ? (loadDataDir ? 'first start from the seed' : 'first start with initdb') : 'start')
await migrate(drizzle(pg) as never, { migrationsFolder: MIGRATIONS_FOLDER })
await step('migrations')
await new Promise((r) => setTimeout(r, Number(process.env.IDLE_S ?? 10) * 1000))
await step('idle')
await pg.close()
console.log(JSON.stringify({ totalMs: Math.round(performance.now() - started) }))
