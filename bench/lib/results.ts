import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

/** Records a benchmark's figures in bench/results/<name>.json with the machine they came from. */
export async function writeResult(name: string, summary: object): Promise<void> {
  const dir = fileURLToPath(new URL('../results/', import.meta.url))
  await mkdir(dir, { recursive: true })
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version
  }
  await writeFile(
    `${dir}${name}.json`,
    `${JSON.stringify({ ...summary, machine, at: new Date().toISOString() }, null, 2)}\n`
  )
}
