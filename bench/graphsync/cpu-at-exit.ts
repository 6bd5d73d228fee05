// Preloaded into a benchmarked `autoretrieve fetch` (NODE_OPTIONS=--import): writes the process's
// own CPU time (user and system, µs) to BENCH_CPU_FILE as it exits, which a parent cannot read from
// /proc once the child is reaped.
import { writeFileSync } from 'node:fs'

const file = process.env.BENCH_CPU_FILE
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify(process.cpuUsage())))
