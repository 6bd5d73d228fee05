#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8'

/**
 * The entry point only sets V8's heap sizing, then loads the command line (main.ts). The flags
 * must be set before the modules load: loading drizzle, libp2p and the rest grew the young
 * generation to its 2 x 64 MiB maximum and the old one to ~100 MiB of startup garbage, so the
 * node idled at ~290 MiB RSS and peaked at ~340 MiB serving (bench/serve, PostgreSQL).
 * The young generation stays at its initial size. The old one grows by 100% of what survives a
 * full GC: at 25% (an earlier choice) a 32 MiB heap was collected in full every ~40 ms during a
 * miss (20+ times per 64 MiB: promoted buffers' wrappers, promises and stream state), and the node
 * spent 1.44 s of CPU on bench/miss's miss against 0.81 s now; bench/serve's server CPU with 4
 * clients went from 1.46 to 0.92 s, for a peak RSS of 220 MiB instead of 184 (budget 250).
 * (--max-semi-space-size cannot be changed once V8 is running; these two can.)
 */
setFlagsFromString('--semi-space-growth-factor=1')
setFlagsFromString('--heap-growing-percent=100')

await import('./main.ts')
