import { constants } from 'node:fs'
import { chmod, open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { IdentityError } from './errors.ts'

export const PEER_KEY_FILE = 'peerkey'

/**
 * The node's libp2p identity, kept in `<data-dir>/peerkey` (protobuf-encoded private key, mode
 * 0600) so the peer ID survives restarts. Created on first use with O_EXCL, so two processes
 * starting at once cannot each write a different key.
 */
export async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, PEER_KEY_FILE)
  try {
    const bytes = await readFile(path)
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (cause) {
      throw new IdentityError(`${path} is not a libp2p private key; move it away to generate a new identity`, {
        cause
      })
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = await generateKeyPair('Ed25519')
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600)
    await handle.writeFile(privateKeyToProtobuf(key))
  } catch (err) {
    // Lost a race with another process: use the key it wrote.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreatePeerKey(dataDir)
    throw err
  } finally {
    await handle?.close()
  }
  await chmod(path, 0o600)
  return key
}
