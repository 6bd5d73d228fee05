// Makes seed/pgdata.tar.gz: the data directory initdb leaves, dumped by the installed PGlite, and
// seed/pgdata.json naming that version. The embedded database loads it on a first start instead of
// running initdb (see src/embedded.ts). It holds no migrations: they run after it is loaded, so a
// new migration needs no new seed; a new PGlite version does (test/seed.test.ts fails until then).
//   pnpm --filter @autoretrieve/store make-seed        (or: node scripts/make-seed.ts [out.tar.gz])
import { writeFile } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { pgliteVersion, SEED_FILE } from '../src/embedded.ts'

const out = process.argv[2] ?? SEED_FILE
// Made with PGlite's defaults: the start parameters are given on every start, not kept in the dump.
const pg = new PGlite()
await pg.waitReady
const dump = await pg.dumpDataDir('gzip')
await pg.close()
await writeFile(out, Buffer.from(await dump.arrayBuffer()))
await writeFile(out.replace(/\.tar\.gz$/, '.json'), `${JSON.stringify({ pglite: await pgliteVersion() }, null, 2)}\n`)
process.stderr.write(`wrote ${out} (${dump.size} bytes)\n`)
