import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The protocol test vectors, committed at the repository root (`test-vectors/`, copied from the
 * protocol notes; its README says where each file comes from). Throws, saying so, when they are
 * missing: a vector test never skips.
 */
export function testVectorsDir(): string {
  const dir = fileURLToPath(new URL('../../../test-vectors/', import.meta.url))
  if (!existsSync(dir))
    throw new Error(`protocol test vectors not found at ${dir}: the repository's test-vectors/ is missing`)
  return dir
}
