import { multiaddr } from '@multiformats/multiaddr'
import { Hono } from 'hono'
import { serveLoopback } from './serve-http.ts'

export interface LotusMiner {
  peerId: string
  multiaddrs: string[]
}

export interface LotusInit {
  /** 0 (default) = any free port. */
  port?: number
  /** Miner ID address (f0…) -> what StateMinerInfo answers. */
  miners: Record<string, LotusMiner>
  /** When set, requests must carry `Authorization: Bearer <token>` (401 otherwise, like Lotus). */
  token?: string
}

export interface LotusStandIn {
  /** Base URL of the HTTP server (JSON-RPC at `${url}/rpc/v1`). */
  url: string
  /** FULLNODE_API_INFO for it: `TOKEN:/ip4/127.0.0.1/tcp/<port>/http`, or the multiaddr alone. */
  apiInfo: string
  /** StateMinerInfo calls answered so far (including errors). */
  readonly calls: number
  close(): Promise<void>
}

type RpcRequest = { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown }

/**
 * A Lotus full node's JSON-RPC 2.0 on loopback, as much of it as autoretrieve uses:
 * `POST /rpc/v1` (and /rpc/v0) `Filecoin.StateMinerInfo [address, tipsetKey]` answering a
 * MinerInfo whose Multiaddrs are base64 binary multiaddrs, as Lotus encodes []byte. An unknown
 * miner is the error Lotus gives for an address with no actor.
 */
export async function startLotus(init: LotusInit): Promise<LotusStandIn> {
  let calls = 0
  const app = new Hono()
  const rpcError = (id: unknown, code: number, message: string, status = 200) =>
    Response.json({ jsonrpc: '2.0', id: id ?? null, error: { code, message } }, { status })

  const minerInfo = (address: string, m: LotusMiner) => ({
    Owner: address,
    Worker: address,
    NewWorker: '<empty>',
    ControlAddresses: null,
    WorkerChangeEpoch: -1,
    PeerId: m.peerId,
    Multiaddrs: m.multiaddrs.map((a) => Buffer.from(multiaddr(a).bytes).toString('base64')),
    WindowPoStProofType: 8,
    SectorSize: 34359738368,
    WindowPoStPartitionSectors: 2349,
    ConsensusFaultElapsed: -1,
    PendingOwnerAddress: null,
    Beneficiary: address,
    BeneficiaryTerm: { Quota: '0', UsedQuota: '0', Expiration: 0 },
    PendingBeneficiaryTerm: null
  })

  app.post('/rpc/:version{v[01]}', async (c) => {
    if (init.token !== undefined && c.req.header('Authorization') !== `Bearer ${init.token}`) {
      return c.text('missing permission to invoke', 401)
    }
    let req: RpcRequest
    try {
      req = (await c.req.json()) as RpcRequest
    } catch {
      return rpcError(null, -32700, 'parse error')
    }
    if (req === null || typeof req !== 'object' || req.jsonrpc !== '2.0' || typeof req.method !== 'string') {
      return rpcError(req?.id, -32600, 'invalid request')
    }
    if (req.method !== 'Filecoin.StateMinerInfo') {
      return rpcError(req.id, -32601, `method '${req.method}' not found`)
    }
    calls++
    const params = Array.isArray(req.params) ? req.params : []
    const address = params[0]
    if (typeof address !== 'string' || !/^[ft][0-4]\w+$/.test(address)) {
      return rpcError(
        req.id,
        1,
        `unmarshaling params for 'Filecoin.StateMinerInfo' (param: *address.Address): invalid address payload`
      )
    }
    const miner = init.miners[address]
    if (miner === undefined) {
      return rpcError(req.id, 1, `resolution lookup failed (${address}): resolve address ${address}: actor not found`)
    }
    return c.json({ jsonrpc: '2.0', id: req.id, result: minerInfo(address, miner) })
  })

  const server = await serveLoopback(app, init.port)
  const ma = `/ip4/127.0.0.1/tcp/${server.port}/http`
  return {
    url: server.url,
    apiInfo: init.token === undefined ? ma : `${init.token}:${ma}`,
    get calls() {
      return calls
    },
    close: () => server.close()
  }
}
