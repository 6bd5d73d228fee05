import { loadConfig } from '@autoretrieve/config'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Command } from 'commander'
import { loadOrCreatePeerKey } from '../identity.ts'
import type { FlagsGetter } from './index.ts'

export function idCommand(program: Command, flags: FlagsGetter): void {
  program
    .command('id')
    .description("print the data dir's peer ID and configured listen addresses as JSON")
    .action(async () => {
      const { config } = await loadConfig({ flags: flags() })
      const peerId = peerIdFromPrivateKey(await loadOrCreatePeerKey(config.dataDir)).toString()
      const addrs = config.listenAddrs.map((a) => `${a}/p2p/${peerId}`)
      process.stdout.write(`${JSON.stringify({ peerId, addrs })}\n`)
    })
}
