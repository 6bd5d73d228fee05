import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { publicKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { type Context, Hono } from 'hono'
import { CID } from 'multiformats/cid'
import { serveLoopback } from './serve-http.ts'

/**
 * none; status500 (every registration and heartbeat is Estuary's plain-error 500);
 * status401 (every heartbeat is refused as an unknown token); garbage (a 200 whose body is not
 * JSON); delay:<ms> (registration and heartbeat answer only after <ms>).
 */
export type EstuaryFault = 'none' | 'status500' | 'status401' | 'garbage' | `delay:${number}`

export interface EstuaryDeal {
  /** Filecoin miner address, e.g. f01234. */
  miner: string
  /** Root CID of the Estuary content holding the object. */
  rootCid: string
  dealId: number
}

export interface EstuaryInit {
  /** 0 (default) = any free port. */
  port?: number
  /** The admin API key registration needs (default `EST-testkit-admin-ARY`). */
  adminToken?: string
  /** Estuary's IndexerAdvertisementInterval as a Go duration string (default `1m0s`). */
  advertiseInterval?: string
  /** CID -> deals answered by `/retrieval-candidates/{cid}` (matched by the CID's text as given). */
  candidates?: Record<string, EstuaryDeal[]>
}

/** One `POST /admin/autoretrieve/init` as the stand-in received it (accepted or not). */
export interface EstuaryRegistrationRequest {
  at: Date
  authorization: string | undefined
  contentType: string | undefined
  addresses: string | undefined
  pubKey: string | undefined
  status: number
}

/** One `POST /autoretrieve/heartbeat` as the stand-in received it (accepted or not). */
export interface EstuaryHeartbeatRequest {
  at: Date
  authorization: string | undefined
  contentType: string | undefined
  bodyBytes: number
  /** The registered node's handle when the token was known. */
  handle: string | undefined
  status: number
}

/** A registered autoretrieve as Estuary keeps it. */
export interface EstuaryAutoretrieve {
  handle: string
  token: string
  pubKey: string
  peerId: string
  addresses: string[]
  lastConnection: Date
  lastAdvertisement: Date | undefined
}

export interface EstuaryStandIn {
  url: string
  adminToken: string
  readonly registrations: readonly EstuaryRegistrationRequest[]
  readonly heartbeats: readonly EstuaryHeartbeatRequest[]
  /** Registered nodes, by handle. */
  readonly autoretrieves: ReadonlyMap<string, EstuaryAutoretrieve>
  setFault(fault: EstuaryFault): void
  setAdvertiseInterval(interval: string): void
  close(): Promise<void>
}

/** Go's zero time.Time, which Estuary sends for "never advertised". */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

/**
 * An Estuary API on loopback, as much of it as autoretrieve talks to (specs/estuary-autoretrieve.md
 * §2, §3, §5): admin registration (`POST /admin/autoretrieve/init`, admin bearer token, form
 * fields `addresses` and `pubKey`, answering a handle and a fresh token; re-registering a key
 * rotates its token), the heartbeat (`POST /autoretrieve/heartbeat` with Estuary's auth rules),
 * the admin listing and `/retrieval-candidates/{cid}`. Errors have Estuary's shape,
 * `{"error": {"code", "reason", "details"}}`. It records what it received and can be made to fail.
 */
export async function startEstuary(init: EstuaryInit = {}): Promise<EstuaryStandIn> {
  const adminToken = init.adminToken ?? 'EST-testkit-admin-ARY'
  let advertiseInterval = init.advertiseInterval ?? '1m0s'
  let fault: EstuaryFault = 'none'
  const registrations: EstuaryRegistrationRequest[] = []
  const heartbeats: EstuaryHeartbeatRequest[] = []
  const byHandle = new Map<string, EstuaryAutoretrieve>()
  const closing = new AbortController()
  /** A pause that ends early, without throwing, when the stand-in closes: no timer outlives it. */
  const pause = (ms: number) => sleep(ms, undefined, { signal: closing.signal }).catch(() => {})

  const estuaryError = (c: Context, status: 400 | 401 | 500, reason: string, details: string) =>
    c.json({ error: { code: status, reason, details } }, status)
  const view = (ar: EstuaryAutoretrieve) => ({
    handle: ar.handle,
    lastConnection: ar.lastConnection.toISOString(),
    lastAdvertisement: ar.lastAdvertisement?.toISOString() ?? GO_ZERO_TIME,
    addrInfo: { ID: ar.peerId, Addrs: ar.addresses }
  })
  const delay = async () => {
    if (fault.startsWith('delay:')) await pause(Number(fault.slice(6)))
  }

  const app = new Hono()
  app.post('/admin/autoretrieve/init', async (c) => {
    const entry: EstuaryRegistrationRequest = {
      at: new Date(),
      authorization: c.req.header('Authorization'),
      contentType: c.req.header('Content-Type'),
      addresses: undefined,
      pubKey: undefined,
      status: 0
    }
    registrations.push(entry)
    const answer = (res: Response) => {
      entry.status = res.status
      return res
    }
    await delay()
    if (bearer(entry.authorization) !== adminToken)
      return answer(estuaryError(c, 401, 'ERR_NOT_AUTHORIZED', 'admin permission required'))
    // Estuary reads them with echo's FormValue: multipart or urlencoded form fields.
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>)
    entry.addresses = typeof form.addresses === 'string' ? form.addresses : undefined
    entry.pubKey = typeof form.pubKey === 'string' ? form.pubKey : undefined
    if (fault === 'status500') return answer(estuaryError(c, 500, 'ERR_INTERNAL_SERVER', 'injected failure'))
    let peerId: string
    let addresses: string[]
    try {
      peerId = peerIdFromPublicKey(publicKeyFromProtobuf(Buffer.from(entry.pubKey ?? '', 'base64'))).toString()
      addresses = (entry.addresses ?? '')
        .split(',')
        .filter((a) => a !== '')
        .map((a) => multiaddr(a).decapsulateCode(0x01a5).toString())
      if (addresses.length === 0) throw new Error('no addresses')
    } catch (err) {
      return answer(
        estuaryError(c, 500, 'ERR_INTERNAL_SERVER', `invalid pubKey or addresses: ${(err as Error).message}`)
      )
    }
    // Estuary hard-deletes an earlier registration of the same key, so its token stops working.
    for (const [handle, ar] of byHandle) if (ar.pubKey === entry.pubKey) byHandle.delete(handle)
    const ar: EstuaryAutoretrieve = {
      handle: `AUTORETRIEVE${randomUUID()}HANDLE`,
      token: `SECRET${randomUUID()}SECRET`,
      pubKey: entry.pubKey!,
      peerId,
      addresses,
      lastConnection: new Date(),
      lastAdvertisement: undefined
    }
    byHandle.set(ar.handle, ar)
    if (fault === 'garbage') return answer(c.text('{"handle": "AUTORE', 200))
    return answer(c.json({ ...view(ar), token: ar.token, advertiseInterval }))
  })

  app.get('/admin/autoretrieve/list', (c) => {
    if (bearer(c.req.header('Authorization')) !== adminToken)
      return estuaryError(c, 401, 'ERR_NOT_AUTHORIZED', 'admin permission required')
    return c.json([...byHandle.values()].map(view))
  })

  app.post('/autoretrieve/heartbeat', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer())
    const entry: EstuaryHeartbeatRequest = {
      at: new Date(),
      authorization: c.req.header('Authorization'),
      contentType: c.req.header('Content-Type'),
      bodyBytes: body.byteLength,
      handle: undefined,
      status: 0
    }
    heartbeats.push(entry)
    const answer = (res: Response) => {
      entry.status = res.status
      return res
    }
    await delay()
    if (fault === 'status500') return answer(estuaryError(c, 500, 'ERR_INTERNAL_SERVER', 'injected failure'))
    // Estuary's rule: the header split on one space into exactly "Bearer" and the token.
    if (entry.authorization === undefined)
      return answer(estuaryError(c, 401, 'ERR_AUTH_MISSING', 'no Authorization header'))
    const parts = entry.authorization.split(' ')
    if (parts.length !== 2 || parts[0] !== 'Bearer')
      return answer(estuaryError(c, 401, 'ERR_INVALID_AUTH', 'invalid Authorization header'))
    const ar = [...byHandle.values()].find((a) => a.token === parts[1])
    if (ar === undefined || fault === 'status401')
      return answer(estuaryError(c, 401, 'ERR_NOT_AUTHORIZED', 'token was not found'))
    entry.handle = ar.handle
    ar.lastConnection = new Date()
    if (fault === 'garbage') return answer(c.text('<html>bad gateway</html>', 200))
    return answer(c.json({ ...view(ar), advertiseInterval }))
  })

  app.get('/retrieval-candidates/:cid', (c) => {
    const text = c.req.param('cid')
    try {
      CID.parse(text)
    } catch {
      return c.json({ error: 'invalid cid' }, 400)
    }
    const deals = init.candidates?.[text]
    if (deals === undefined || deals.length === 0) return c.json(null)
    return c.json(deals.map((d) => ({ Miner: d.miner, RootCid: { '/': d.rootCid }, DealID: d.dealId })))
  })

  const server = await serveLoopback(app, init.port)
  return {
    url: server.url,
    adminToken,
    registrations,
    heartbeats,
    autoretrieves: byHandle,
    setFault: (next) => {
      fault = next
    },
    setAdvertiseInterval: (interval) => {
      advertiseInterval = interval
    },
    close: async () => {
      closing.abort()
      await server.close()
    }
  }
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined
}
