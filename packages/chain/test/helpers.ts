import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseLotusJson } from '../src/index.ts'

// The repository's test-vectors/ (this package sits below @autoretrieve/testkit, so it finds the
// directory itself).
const dir = fileURLToPath(new URL('../../../test-vectors/filecoin-chain/', import.meta.url))

/** A vector file's JSON (integers past 2^53 as bigint). Throws, naming the path, when the vectors are missing. */
// biome-ignore lint/suspicious/noExplicitAny: vector files are untyped JSON
export function loadVectors(name: string): any {
  if (!existsSync(dir)) throw new Error(`chain test vectors not found at ${dir}`)
  return parseLotusJson(readFileSync(join(dir, name), 'utf8'))
}

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'))
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** A fixed private key (never a real wallet's), so signatures are reproducible. */
export const KEY_A = fromHex('8f2f1b9a4a9b7a6e5d4c3b2a1908f7e6d5c4b3a29180706f5e4d3c2b1a090807')
export const KEY_B = fromHex('1111111111111111111111111111111111111111111111111111111111111111')
