import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The same lookup as @autoretrieve/testkit's testVectorsDir (testkit depends on this package, so
// this package cannot depend on it): $AUTORETRIEVE_TEST_VECTORS, else shared/specs beside the repo.
function vectorsDir(): string | undefined {
  const candidates = [
    process.env.AUTORETRIEVE_TEST_VECTORS,
    fileURLToPath(new URL('../../../../shared/specs/test-vectors/', import.meta.url))
  ]
  return candidates.find((dir): dir is string => dir !== undefined && dir !== '' && existsSync(dir))
}

const dir = vectorsDir()

/** A test's `skip` option: false when the vectors are there, the reason otherwise. */
export const skipWithoutVectors: string | false =
  dir === undefined &&
  'protocol test vectors not found: set AUTORETRIEVE_TEST_VECTORS or place shared/specs beside the repository'

/** A vector file's JSON, or an empty shape when the vectors are absent (the tests then skip). */
// biome-ignore lint/suspicious/noExplicitAny: vector files are untyped JSON
export function loadVectors(name: string): any {
  if (dir === undefined) return { inputs: {}, vectors: {} }
  return JSON.parse(readFileSync(join(dir, name), 'utf8'))
}

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** ExploreAllRecursively as an IPLD data-model value. */
export const exploreAll = { R: { l: { none: {} }, ':>': { a: { '>': { '@': {} } } } } }
