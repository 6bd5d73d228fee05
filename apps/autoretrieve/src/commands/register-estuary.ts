import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { isIP } from 'node:net'
import { dirname } from 'node:path'
import { ensureAdminToken, loadConfig, updateConfigKeys } from '@autoretrieve/config'
import {
  DEFAULT_ESTUARY_TIMEOUT_MS,
  DEFAULT_IP_LOOKUP_URL,
  EstuaryStatusError,
  lookupPublicIp,
  type RegistrationAnswer,
  registerWithEstuary
} from '@autoretrieve/estuary'
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Command } from 'commander'
import { PublicIpError, UsageError } from '../errors.ts'
import { loadOrCreatePeerKey } from '../identity.ts'
import { readRuntimeInfo } from '../runtime-file.ts'
import type { FlagsGetter } from './index.ts'

interface RegisterOptions {
  address?: string[]
  publicIp?: string
  ipLookupUrl: string
}

/**
 * `register-estuary <endpoint url> <admin token>` (specs/estuary-autoretrieve.md §2): registers
 * the data dir's peer key and addresses with Estuary, then stores the endpoint, the heartbeat
 * token and the advertise interval in config.yaml (comments kept, mode 0600). A node running on
 * the data dir is asked to reload, so it starts beating at once.
 */
export function registerEstuaryCommand(program: Command, flags: FlagsGetter): void {
  program
    .command('register-estuary <endpoint> <adminToken>')
    .description('register with an Estuary and store the heartbeat endpoint and token in config.yaml')
    .option(
      '--address <multiaddr>',
      'address to register (repeatable; default: listen-addrs, 0.0.0.0 replaced by the public IP)',
      (value: string, previous?: string[]) => [...(previous ?? []), value]
    )
    .option('--public-ip <ip>', 'the public IP for wildcard listen addresses (default: looked up)')
    .option('--ip-lookup-url <url>', 'where the public IP is looked up (JSON field "query")', DEFAULT_IP_LOOKUP_URL)
    .action(async (endpointText: string, adminToken: string, opts: RegisterOptions) => {
      const endpoint = parseEndpoint(endpointText)
      if (adminToken.trim() === '') throw new UsageError('register-estuary: the admin token is empty')
      const { config, configPath } = await loadConfig({ flags: flags() })
      await assertWritable(configPath)
      const key = await loadOrCreatePeerKey(config.dataDir)
      const peerId = peerIdFromPrivateKey(key).toString()
      const addresses = await registrationAddresses(config.listenAddrs, opts)

      let answer: RegistrationAnswer
      try {
        answer = await registerWithEstuary(endpoint, adminToken.trim(), {
          addresses,
          pubKey: Buffer.from(publicKeyToProtobuf(key.publicKey)).toString('base64')
        })
      } catch (err) {
        if (err instanceof EstuaryStatusError && (err.status === 401 || err.status === 403)) {
          throw new EstuaryStatusError(`${err.message} (is the Estuary admin token right?)`, err.status, {
            cause: err
          })
        }
        throw err
      }

      const updates: Record<string, string> = {
        'advertise-endpoint-url': endpoint,
        'advertise-endpoint-token': answer.token
      }
      if (answer.advertiseInterval !== undefined) updates['heartbeat-interval'] = answer.advertiseInterval
      try {
        await updateConfigKeys(configPath, updates)
      } catch (err) {
        // Estuary has already replaced any earlier token of this key: say so, never print the token.
        throw new Error(
          `registered with Estuary as ${answer.handle}, but could not write ${configPath} (${(err as Error).message}); fix that and run register-estuary again`,
          { cause: err }
        )
      }
      const reloaded = await reloadRunningNode(config)
      process.stderr.write(
        `registered with Estuary as ${answer.handle}; wrote ${Object.keys(updates).join(', ')} to ${configPath}\n`
      )
      if (answer.advertiseInterval === undefined)
        process.stderr.write('Estuary sent no advertise interval; heartbeat-interval left as it was\n')
      if (reloaded === false)
        process.stderr.write('the running node did not reload; restart it (or POST /api/v1/reload) to start beating\n')
      process.stdout.write(
        `${JSON.stringify({
          handle: answer.handle,
          peerId,
          addresses,
          advertiseInterval: answer.advertiseInterval ?? null,
          configPath,
          // null: no node runs on this data dir
          reloaded: reloaded ?? null
        })}\n`
      )
    })
}

function parseEndpoint(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch (cause) {
    throw new UsageError(`register-estuary: "${text}" is not a URL (e.g. https://api.estuary.tech)`, { cause })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`register-estuary: "${text}" is not an http(s) URL (e.g. https://api.estuary.tech)`)
  return text.replace(/\/+$/, '')
}

async function assertWritable(configPath: string): Promise<void> {
  try {
    await access(dirname(configPath), constants.W_OK)
  } catch (cause) {
    throw new Error(`cannot write ${configPath} (${(cause as NodeJS.ErrnoException).code}); not registering`, {
      cause
    })
  }
}

/**
 * `--address` as given, else the listen addresses with a wildcard IP replaced by the public one
 * (as the Go node registered `/ip4/<public ip>/tcp/6746`). Port 0 is picked at start, so those
 * addresses are left out.
 */
async function registrationAddresses(listenAddrs: string[], opts: RegisterOptions): Promise<string[]> {
  if (opts.address !== undefined && opts.address.length > 0) {
    return opts.address.map((a) => {
      try {
        return multiaddr(a).toString()
      } catch (cause) {
        throw new UsageError(`--address ${a}: not a multiaddr (${(cause as Error).message})`, { cause })
      }
    })
  }
  if (opts.publicIp !== undefined && isIP(opts.publicIp) === 0)
    throw new UsageError(`--public-ip ${opts.publicIp}: not an IP address`)
  let publicIp = opts.publicIp
  const out: string[] = []
  const skipped: string[] = []
  for (const text of listenAddrs) {
    const addr = multiaddr(text).toString()
    const parts = addr.split('/')
    // ['', 'ip4', '0.0.0.0', 'tcp', '6746', ...]
    if (parts[3] === 'tcp' && parts[4] === '0') {
      skipped.push(`${addr} (port 0)`)
      continue
    }
    const wildcard = (parts[1] === 'ip4' && parts[2] === '0.0.0.0') || (parts[1] === 'ip6' && parts[2] === '::')
    if (!wildcard) {
      out.push(addr)
      continue
    }
    if (publicIp === undefined) {
      try {
        publicIp = await lookupPublicIp(opts.ipLookupUrl, { timeoutMs: DEFAULT_ESTUARY_TIMEOUT_MS })
      } catch (cause) {
        throw new PublicIpError(
          `could not find the public IP for ${addr}: ${(cause as Error).message}; give --public-ip <ip> or --address <multiaddr>`,
          { cause }
        )
      }
    }
    const family = isIP(publicIp) === 6 ? 'ip6' : 'ip4'
    if (family !== parts[1]) {
      skipped.push(`${addr} (public IP ${publicIp} is ${family})`)
      continue
    }
    out.push(['', family, publicIp, ...parts.slice(3)].join('/'))
  }
  if (out.length === 0) {
    throw new UsageError(
      `register-estuary: no address to register from listen-addrs${skipped.length > 0 ? ` (left out: ${skipped.join(', ')})` : ''}; give --address <multiaddr>`
    )
  }
  return out
}

/** true: the running node reloaded; false: it runs but did not; undefined: none runs. */
async function reloadRunningNode(
  config: Awaited<ReturnType<typeof loadConfig>>['config']
): Promise<boolean | undefined> {
  const running = await readRuntimeInfo(config.dataDir)
  if (running === undefined) return undefined
  try {
    const res = await fetch(`${running.adminUrl}/api/v1/reload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await ensureAdminToken(config)}` },
      signal: AbortSignal.timeout(DEFAULT_ESTUARY_TIMEOUT_MS)
    })
    await res.body?.cancel()
    return res.ok
  } catch {
    return false
  }
}
