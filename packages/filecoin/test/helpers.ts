import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The repository's test-vectors/ (as @autoretrieve/testkit's testVectorsDir finds it; testkit
// depends on this package, so this package cannot depend on it).
const dir = fileURLToPath(new URL('../../../test-vectors/', import.meta.url))

/** A vector file's JSON. Throws, naming the path, when the repository's test-vectors/ is missing. */
// biome-ignore lint/suspicious/noExplicitAny: vector files are untyped JSON
export function loadVectors(name: string): any {
  if (!existsSync(dir))
    throw new Error(`protocol test vectors not found at ${dir}: the repository's test-vectors/ is missing`)
  return JSON.parse(readFileSync(join(dir, name), 'utf8'))
}

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** ExploreAllRecursively as an IPLD data-model value. */
export const exploreAll = { R: { l: { none: {} }, ':>': { a: { '>': { '@': {} } } } } }
