#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8'

/**
 * The entry point only sets V8's heap sizing, then loads the command line (main.ts). The flags
 * must be set before the modules load: loading drizzle, libp2p and the rest grew the young
 * generation to its 2 x 64 MiB maximum and the old one to ~100 MiB of startup garbage, so the
 * node idled at ~290 MiB RSS and peaked at ~340 MiB serving (bench/serve, PostgreSQL). With the
 * young generation kept at its initial size and the old generation grown in 25% steps it idles at
 * ~140 MiB and peaked at ~186 MiB in the same run, for a few percent more GC time.
 * (--max-semi-space-size cannot be changed once V8 is running; these two can.)
 */
setFlagsFromString('--semi-space-growth-factor=1')
setFlagsFromString('--heap-growing-percent=25')

await import('./main.ts')
