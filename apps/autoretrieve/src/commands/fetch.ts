import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createBitswapServer } from '@autoretrieve/bitswap'
import { createBlockCache } from '@autoretrieve/blockcache'
import { loadConfig } from '@autoretrieve/config'
import { walkDag } from '@autoretrieve/dag'
import { mergePolicy } from '@autoretrieve/policy'
import { createRetriever } from '@autoretrieve/retriever'
import type { Candidate } from '@autoretrieve/routing'
import { CarWriter } from '@ipld/car/writer'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Command } from 'commander'
import { CID } from 'multiformats/cid'
import { UsageError } from '../errors.ts'
import { createHost } from '../host.ts'
import { loadOrCreatePeerKey } from '../identity.ts'
import { createLogger } from '../logger.ts'
import { configPolicy } from '../policy-service.ts'
import { candidateSource, createRetrievalAdapters } from '../retrieval.ts'
import { readRuntimeInfo } from '../runtime-file.ts'
import type { FlagsGetter } from './index.ts'

const PEER_PROTOCOLS = ['bitswap', 'graphsync'] as const
type PeerProtocol = (typeof PEER_PROTOCOLS)[number]

/**
 * A provider given on the command line: an HTTP(S) gateway URL, or a libp2p multiaddr with /p2p/
 * reached over Bitswap or Graphsync (free data-transfer retrieval, as from Boost).
 */
function providerCandidate(text: string, root: string, protocol: PeerProtocol): Candidate {
  if (/^https?:\/\//.test(text)) {
    return {
      peerId: `http:${new URL(text).host}`,
      addrs: [],
      protocols: ['http'],
      httpUrls: [text.replace(/\/+$/, '')],
      rootCid: root,
      source: 'static'
    }
  }
  let peerId: string | undefined
  try {
    peerId = multiaddr(text)
      .getComponents()
      .find((c) => c.name === 'p2p')?.value
  } catch {}
  if (peerId === undefined)
    throw new UsageError(`--provider ${text}: give an http(s) URL or a multiaddr ending in /p2p/<peer ID>`)
  return { peerId, addrs: [text], protocols: [protocol], httpUrls: [], rootCid: root, source: 'static' }
}

export function fetchCommand(program: Command, flags: FlagsGetter): void {
  program
    .command('fetch <cid>')
    .description('retrieve a DAG through the same engine the node uses and write it as a CAR')
    .option('-o, --output <file>', 'write the CAR here (default: stdout)')
    .option('--provider <multiaddr-or-url>', 'retrieve from this provider instead of asking the indexer')
    .option('--protocol <bitswap|graphsync>', 'how to reach a --provider multiaddr', 'bitswap')
    .action(async (text: string, opts: { output?: string; provider?: string; protocol: string }) => {
      let root: CID
      try {
        root = CID.parse(text)
      } catch (cause) {
        throw new UsageError(`fetch: "${text}" is not a CID`, { cause })
      }
      const protocol = opts.protocol as PeerProtocol
      if (!PEER_PROTOCOLS.includes(protocol))
        throw new UsageError(`--protocol ${opts.protocol}: give one of ${PEER_PROTOCOLS.join(', ')}`)
      const providers = opts.provider ? [providerCandidate(opts.provider, root.toString(), protocol)] : undefined
      if (opts.output === undefined && process.stdout.isTTY)
        throw new UsageError('fetch: refusing to write a CAR to a terminal; use -o <file>')
      const { config } = await loadConfig({ flags: flags() })
      const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' })
      // Beside a running node, use a scratch cache: the node owns the data dir's cache (one writer
      // per block log). So too when the log is locked by a node still starting or stopping.
      const newScratch = () => mkdtemp(join(tmpdir(), 'autoretrieve-fetch-'))
      const running = await readRuntimeInfo(config.dataDir)
      let scratch = running ? await newScratch() : undefined
      let cache = createBlockCache({ logger }, { path: scratch ?? join(config.dataDir, 'blockstore') })
      try {
        await cache.start()
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_LOCKED' || scratch !== undefined) throw err
        scratch = await newScratch()
        cache = createBlockCache({ logger }, { path: scratch })
        await cache.start()
      }
      const privateKey = await loadOrCreatePeerKey(config.dataDir)
      const host = await createHost({ privateKey, listenAddrs: [], routingTableType: 'disabled', logger })
      const none = () => () => {}
      const server = createBitswapServer({
        libp2p: host,
        blocks: cache,
        policy: { current: () => ({ version: 0 }), subscribe: none, isDenied: () => false }
      })
      await server.start()
      try {
        const snapshot = mergePolicy(configPolicy(config), { version: 0, entries: [], minerConfigs: [] })
        const retriever = createRetriever(
          {
            cache,
            policy: () => snapshot,
            candidates: candidateSource(config, peerIdFromPrivateKey(privateKey).toString(), logger),
            adapters: createRetrievalAdapters({ host, bitswap: server, logger }),
            logger
          },
          { maxConcurrentRetrievals: config.maxConcurrentRetrievals }
        )
        const tty = process.stderr.isTTY
        const started = Date.now()
        const result = await retriever.retrieve(root, {
          providers,
          onProgress: (e) => {
            if (e.type === 'block' && tty) {
              const mb = e.bytes / 1e6
              process.stderr.write(
                `\r${e.blocks} blocks, ${mb.toFixed(1)} MB, ${(mb / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(1)} MB/s   `
              )
            } else if (e.type === 'attempt-failed') {
              process.stderr.write(`${tty ? '\n' : ''}${e.protocol} ${e.provider}: ${e.errorClass}: ${e.message}\n`)
            }
          }
        })
        if (tty) process.stderr.write('\n')
        if (!result.ok) throw new Error(`fetch ${root}: ${result.reason}: ${result.error.message}`)
        const retrievalMs = Date.now() - started
        const { writer, out } = CarWriter.create([root])
        const writing = pipeline(Readable.from(out), opts.output ? createWriteStream(opts.output) : process.stdout)
        for await (const step of walkDag(root, (cid) => cache.get(cid))) {
          if (step.bytes !== undefined) await writer.put({ cid: step.cid, bytes: step.bytes })
        }
        await writer.close()
        await writing
        process.stderr.write(
          `${JSON.stringify({ root: root.toString(), blocks: result.blocks, bytes: result.bytes, provider: result.provider, protocol: result.protocol, ms: retrievalMs })}\n`
        )
      } finally {
        await server.stop()
        await host.stop()
        await cache.stop()
        if (scratch) await rm(scratch, { recursive: true, force: true })
      }
    })
}
