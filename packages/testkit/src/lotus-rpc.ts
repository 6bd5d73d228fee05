// The Lotus full-node methods the stand-in answers, each with Lotus' parameter count (go-jsonrpc
// refuses any other count) and its answer in Lotus' JSON. v0 differs only where Lotus' v0 API does.
import {
  type Address,
  formatAddress,
  messageFromLotusJson,
  messageToLotusJson,
  signedMessageFromLotusJson
} from '@autoretrieve/chain'
import { multiaddr } from '@multiformats/multiaddr'
import type { Chain } from './lotus-chain.ts'
import { ACTOR_CODE_CIDS, NETWORK_VERSION } from './lotus-constants.ts'
import { RpcError } from './lotus-errors.ts'
import { actorJson, actorStateJson, msgLookupJson, type Params, tipSetJson } from './lotus-json.ts'
import type { Actor } from './lotus-state.ts'

export interface LotusMiner {
  peerId: string
  multiaddrs: string[]
}

export interface RpcContext {
  chain: Chain
  miners: Record<string, LotusMiner>
  version: 'v0' | 'v1'
  /** Aborted when the client goes away or the stand-in closes: bounds StateWaitMsg. */
  signal: AbortSignal
  genesisTime: number
}

interface Method {
  /** Parameter count on /rpc/v1 (and /rpc/v0 unless v0Params says otherwise). */
  params: number
  v0Params?: number
  call(p: Params, ctx: RpcContext): unknown
}

const notFound = (a: Address) => {
  const s = formatAddress(a)
  return new RpcError(`resolution lookup failed (${s}): resolve address ${s}: actor not found`)
}

/** The actor behind an address; a key address gets its account (every address starts funded). */
function actorOf(ctx: RpcContext, a: Address): Actor {
  const actor = ctx.chain.state.getOrCreate(a)
  if (actor === undefined) throw notFound(a)
  return actor
}

export const METHODS: Record<string, Method> = {
  'Filecoin.Version': {
    params: 0,
    call: () => ({ Version: '1.34.1+mainnet+autoretrieve-testkit', APIVersion: 0x020300, BlockDelay: 30 })
  },
  'Filecoin.ChainHead': { params: 0, call: (_, ctx) => tipSetJson(ctx.chain, ctx.genesisTime) },
  'Filecoin.StateNetworkVersion': {
    params: 1,
    call: (p) => {
      p.tipSetKey(0)
      return NETWORK_VERSION
    }
  },
  'Filecoin.StateActorCodeCIDs': {
    params: 1,
    call: (p) => {
      const nv = p.uint(0, '*network.Version')
      if (nv > BigInt(NETWORK_VERSION)) throw new RpcError(`invalid network version ${nv}`)
      return Object.fromEntries(Object.entries(ACTOR_CODE_CIDS).map(([name, cid]) => [name, { '/': cid }]))
    }
  },
  'Filecoin.WalletBalance': {
    params: 1,
    call: (p, ctx) => ctx.chain.state.balanceOf(p.address(0)).toString()
  },
  'Filecoin.MpoolGetNonce': { params: 1, call: (p, ctx) => Number(ctx.chain.nextNonce(p.address(0))) },
  'Filecoin.GasEstimateMessageGas': {
    params: 3,
    call: (p, ctx) => {
      const m = p.decode(0, '*types.Message', (j) => messageFromLotusJson(j))
      const spec = p.decode(1, '*api.MessageSendSpec', (j) => j as { MaxFee?: unknown } | null)
      const maxFee = spec?.MaxFee === undefined || spec.MaxFee === null ? '0' : spec.MaxFee
      if (typeof maxFee !== 'string' || !/^[0-9]{1,80}$/.test(maxFee)) {
        throw new RpcError(
          "unmarshaling params for 'Filecoin.GasEstimateMessageGas' (param: *api.MessageSendSpec): MaxFee is not a big int string",
          -32700
        )
      }
      p.tipSetKey(2)
      return messageToLotusJson(ctx.chain.estimate(m, BigInt(maxFee)))
    }
  },
  'Filecoin.MpoolPush': {
    params: 1,
    call: (p, ctx) => {
      const sm = p.decode(0, '*types.SignedMessage', (j) => signedMessageFromLotusJson(j))
      return { '/': ctx.chain.push(sm).toString() }
    }
  },
  'Filecoin.StateWaitMsg': {
    params: 4,
    v0Params: 2,
    call: async (p, ctx) => {
      const cid = p.cid(0)
      const confidence = p.uint(1)
      let allowReplaced = true
      if (ctx.version === 'v1') {
        p.int(2, '*abi.ChainEpoch')
        allowReplaced = p.bool(3)
      }
      const found = await ctx.chain.wait(cid.toString(), confidence, allowReplaced, ctx.signal)
      return msgLookupJson(ctx.chain, found)
    }
  },
  'Filecoin.StateSearchMsg': {
    params: 4,
    v0Params: 1,
    call: (p, ctx) => {
      let cid = p.cid(0)
      let allowReplaced = true
      if (ctx.version === 'v1') {
        p.tipSetKey(0)
        cid = p.cid(1)
        p.int(2, '*abi.ChainEpoch')
        allowReplaced = p.bool(3)
      }
      const found = ctx.chain.lookup(cid.toString(), allowReplaced)
      return found === undefined ? null : msgLookupJson(ctx.chain, found)
    }
  },
  'Filecoin.StateGetActor': {
    params: 2,
    call: (p, ctx) => {
      p.tipSetKey(1)
      return actorJson(actorOf(ctx, p.address(0)))
    }
  },
  'Filecoin.StateReadState': {
    params: 2,
    call: (p, ctx) => {
      p.tipSetKey(1)
      return actorStateJson(actorOf(ctx, p.address(0)))
    }
  },
  'Filecoin.StateLookupID': {
    params: 2,
    call: (p, ctx) => {
      p.tipSetKey(1)
      return `f0${actorOf(ctx, p.address(0)).id}`
    }
  },
  'Filecoin.StateAccountKey': {
    params: 2,
    call: (p, ctx) => {
      p.tipSetKey(1)
      const a = p.address(0)
      const actor = actorOf(ctx, a)
      if (actor.kind !== 'account' || actor.robust === undefined) {
        throw new RpcError(`failed to get account actor state for ${formatAddress(a)}: actor is not an account`)
      }
      return formatAddress(actor.robust)
    }
  },
  'Filecoin.PaychVoucherCheckValid': {
    params: 2,
    call: (p, ctx) => {
      ctx.chain.vouchers.check(p.address(0), p.voucher(1))
      return null
    }
  },
  'Filecoin.PaychVoucherAdd': {
    params: 4,
    call: (p, ctx) => ctx.chain.vouchers.add(p.address(0), p.voucher(1), p.bytes(2), p.bigInt(3)).toString()
  },
  'Filecoin.StateMinerInfo': {
    params: 2,
    call: (p, ctx) => {
      const address = p.address(0)
      const miner = ctx.miners[formatAddress(address)]
      if (miner === undefined) throw notFound(address)
      return minerInfo(formatAddress(address), miner)
    }
  }
}

/** MinerInfo; Multiaddrs are base64 binary multiaddrs, as Lotus encodes []byte. */
function minerInfo(address: string, m: LotusMiner) {
  return {
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
  }
}
