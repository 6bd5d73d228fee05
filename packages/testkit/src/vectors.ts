import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Where the protocol test vectors are: $AUTORETRIEVE_TEST_VECTORS, else the shared specs beside
 * the repository (`../shared/specs/test-vectors`, as CI lays them out). undefined when neither
 * exists, so a test can skip with a clear message on a bare clone.
 */
export function testVectorsDir(): string | undefined {
  const candidates = [
    process.env.AUTORETRIEVE_TEST_VECTORS,
    fileURLToPath(new URL('../../../../shared/specs/test-vectors/', import.meta.url))
  ]
  return candidates.find((dir): dir is string => dir !== undefined && dir !== '' && existsSync(dir))
}

export const NO_VECTORS_MESSAGE =
  'protocol test vectors not found: set AUTORETRIEVE_TEST_VECTORS or place shared/specs beside the repository'
