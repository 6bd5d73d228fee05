import { encodeFrame } from '@autoretrieve/frames'
import { multihashKey } from '@autoretrieve/interface'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { cidFromPrefix, type DecodedMessage, encodeMessage, PresenceType, WantType } from './codec.ts'
import { PROTOCOL_110, PROTOCOL_120 } from './constants.ts'
import type { BitswapServer } from './types.ts'

export type SessionEvent = { type: 'block'; cid: CID; bytes: Uint8Array } | { type: 'dont-have'; cid: CID }

export interface BitswapSession {
  /** Asks for these blocks (want-block, sendDontHave). */
  want(cids: CID[]): Promise<void>
  cancel(cids: CID[]): Promise<void>
  /** Blocks and DONT_HAVEs from this peer for what we asked, as they arrive (hash-checked by construction). */
  events(): AsyncIterable<SessionEvent>
  close(): Promise<void>
}

/**
 * A Bitswap client directed at one peer (a storage provider's booster-bitswap), for retrievals:
 * wants go out on a stream we open; answers come back on streams the peer opens, which the
 * server's protocol handler receives and passes here through `onResponse`.
 */
export function createBitswapClient(components: {
  libp2p: Pick<Libp2p, 'dial' | 'dialProtocol'>
  server: Pick<BitswapServer, 'onResponse'>
}) {
  return {
    async session(peer: PeerId, addrs: Multiaddr[], options: { signal?: AbortSignal } = {}): Promise<BitswapSession> {
      await components.libp2p.dial(addrs.length > 0 ? addrs : peer, options)
      const stream: Stream = await components.libp2p.dialProtocol(peer, [PROTOCOL_120, PROTOCOL_110], options)
      const wanted = new Map<string, CID>()
      const queue: SessionEvent[] = []
      let wake: (() => void) | undefined
      let closed = false
      const peerKey = peer.toString()
      const onMessage = (from: string, msg: DecodedMessage) => {
        if (from !== peerKey) return
        for (const b of msg.payload) {
          let cid: CID
          try {
            cid = cidFromPrefix(b.prefix, b.data)
          } catch {
            continue
          }
          const key = multihashKey(cid)
          const want = wanted.get(key)
          if (want === undefined) continue // unrequested: ignored, as Go clients do
          wanted.delete(key)
          queue.push({ type: 'block', cid: want, bytes: b.data })
        }
        for (const p of msg.blockPresences) {
          if (p.type !== PresenceType.DontHave) continue
          let key: string
          try {
            key = multihashKey(CID.decode(p.cid))
          } catch {
            continue
          }
          const cid = wanted.get(key)
          if (cid === undefined) continue
          wanted.delete(key)
          queue.push({ type: 'dont-have', cid })
        }
        wake?.()
      }
      const unsubscribe = components.server.onResponse(onMessage)
      const send = async (msg: Parameters<typeof encodeMessage>[0]) => {
        if (!stream.send(encodeFrame(encodeMessage(msg)))) await stream.onDrain(options)
      }
      const session: BitswapSession = {
        async want(cids) {
          for (const cid of cids) wanted.set(multihashKey(cid), cid)
          await send({
            wantlist: {
              entries: cids.map((cid) => ({ cid, priority: 1, wantType: WantType.Block, sendDontHave: true }))
            }
          })
        },
        async cancel(cids) {
          for (const cid of cids) wanted.delete(multihashKey(cid))
          if (cids.length > 0 && stream.status === 'open')
            await send({ wantlist: { entries: cids.map((cid) => ({ cid, cancel: true })) } })
        },
        async *events() {
          while (!closed) {
            while (queue.length > 0) yield queue.shift()!
            await new Promise<void>((resolve) => {
              wake = resolve
              options.signal?.addEventListener('abort', () => resolve(), { once: true })
            })
            wake = undefined
            options.signal?.throwIfAborted()
          }
        },
        async close() {
          closed = true
          wake?.()
          unsubscribe()
          await session.cancel([...wanted.values()]).catch(() => {})
          await stream.close().catch(() => stream.abort(new Error('closed')))
        }
      }
      return session
    }
  }
}
