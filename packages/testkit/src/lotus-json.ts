// Lotus' JSON on the way in (parameters, refused as go-jsonrpc refuses them: -32700 "unmarshaling
// params for ...") and on the way out (MsgLookup, ActorState, TipSet, as Lotus marshals them).
import {
  type Address,
  chainCid,
  decodeExecReturn,
  formatAddress,
  parseAddress,
  type SignedVoucher,
  signedVoucherFromLotusJson
} from '@autoretrieve/chain'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import type { Chain, ExecutedMessage } from './lotus-chain.ts'
import { ACTOR_CODE_CIDS, BASE_FEE } from './lotus-constants.ts'
import { RpcError } from './lotus-errors.ts'
import { type Actor, idString } from './lotus-state.ts'

/** go-jsonrpc's rpcParseError, which it also uses for parameters that do not unmarshal. */
const PARSE_ERROR = -32700

/** Reads positional parameters of one method, each failure worded as go-jsonrpc words it. */
export class Params {
  private readonly method: string
  private readonly values: unknown[]

  constructor(method: string, values: unknown[]) {
    this.method = method
    this.values = values
  }

  private fail(type: string, why: string): never {
    throw new RpcError(`unmarshaling params for '${this.method}' (param: ${type}): ${why}`, PARSE_ERROR)
  }

  address(i: number): Address {
    const v = this.values[i]
    if (typeof v !== 'string') this.fail('*address.Address', 'expected an address string')
    try {
      return parseAddress(v)
    } catch (cause) {
      this.fail('*address.Address', (cause as Error).message)
    }
  }

  cid(i: number): CID {
    const v = this.values[i] as { '/'?: unknown } | null
    if (typeof v?.['/'] !== 'string') this.fail('*cid.Cid', 'expected {"/": "<cid>"}')
    try {
      return CID.parse(v['/'])
    } catch (cause) {
      this.fail('*cid.Cid', (cause as Error).message)
    }
  }

  uint(i: number, type = '*uint64'): bigint {
    const v = this.values[i]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      this.fail(type, `${JSON.stringify(v)} is not a uint64`)
    return BigInt(v)
  }

  int(i: number, type: string): bigint {
    const v = this.values[i]
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(type, `${JSON.stringify(v)} is not an integer`)
    return BigInt(v)
  }

  bool(i: number): boolean {
    const v = this.values[i]
    if (typeof v !== 'boolean') this.fail('*bool', `${JSON.stringify(v)} is not a boolean`)
    return v
  }

  bigInt(i: number): bigint {
    const v = this.values[i]
    if (typeof v !== 'string' || !/^-?[0-9]{1,80}$/.test(v))
      this.fail('*big.Int', `${JSON.stringify(v)} is not a big int string`)
    return BigInt(v)
  }

  bytes(i: number): Uint8Array {
    const v = this.values[i]
    if (v === null) return new Uint8Array(0)
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) this.fail('*[]uint8', 'expected base64')
    return new Uint8Array(Buffer.from(v, 'base64'))
  }

  /** A TipSetKey (null = the head; the stand-in answers every query at its head). */
  tipSetKey(i: number) {
    const v = this.values[i]
    if (v !== null && !Array.isArray(v)) this.fail('*types.TipSetKey', 'expected null or a list of CIDs')
  }

  /** A value a codec reads (a message, a voucher), its error message passed on. */
  decode<T>(i: number, type: string, read: (json: unknown) => T): T {
    try {
      return read(this.values[i])
    } catch (cause) {
      this.fail(type, (cause as Error).message)
    }
  }

  voucher(i: number): SignedVoucher {
    return this.decode(i, '*paych.SignedVoucher', (j) => signedVoucherFromLotusJson(j))
  }
}

const cidJson = (c: CID | string) => ({ '/': c.toString() })
const base64OrNull = (b: Uint8Array) => (b.length === 0 ? null : Buffer.from(b).toString('base64'))

/** api.MsgLookup. ReturnDec is decoded for the init actor's Exec, as Lotus decodes known returns. */
export function msgLookupJson(chain: Chain, e: ExecutedMessage) {
  let returnDec: unknown = null
  if (
    e.receipt.exitCode === 0 &&
    e.message.to.protocol === 0 &&
    e.message.method === 2n &&
    e.receipt.return.length > 0
  ) {
    try {
      const r = decodeExecReturn(e.receipt.return)
      returnDec = { IDAddress: formatAddress(r.idAddress), RobustAddress: formatAddress(r.robustAddress) }
    } catch {
      returnDec = null
    }
  }
  return {
    Message: cidJson(e.cid),
    Receipt: {
      ExitCode: e.receipt.exitCode,
      Return: base64OrNull(e.receipt.return),
      GasUsed: Number(e.receipt.gasUsed),
      EventsRoot: null
    },
    ReturnDec: returnDec,
    TipSet: [cidJson(chain.tipsetCid(e.height))],
    Height: Number(e.height)
  }
}

/** The actor's state head: a CID that changes when the state does. */
const headOf = (state: unknown) => cidJson(chainCid(dagCbor.encode(state)))

function stateJson(actor: Actor) {
  switch (actor.kind) {
    case 'account':
      return { Address: actor.robust === undefined ? null : formatAddress(actor.robust) }
    case 'init':
      return { NetworkName: 'mainnet' }
    case 'paymentchannel': {
      const p = actor.paych
      if (p === undefined) return null
      const lanes = [...p.lanes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([l, s]) => [l, s.redeemed, s.nonce])
      return {
        From: idString(p.from),
        To: idString(p.to),
        ToSend: p.toSend.toString(),
        SettlingAt: Number(p.settlingAt),
        MinSettleHeight: Number(p.minSettleHeight),
        // Not a real AMT root, but a CID of the lanes' content: it changes exactly when they do.
        LaneStates: cidJson(chainCid(dagCbor.encode(lanes)))
      }
    }
  }
}

/** api.ActorState: what Filecoin.StateReadState answers. */
export function actorStateJson(actor: Actor) {
  return { Balance: actor.balance.toString(), Code: cidJson(ACTOR_CODE_CIDS[actor.kind]), State: stateJson(actor) }
}

/** types.ActorV5: what Filecoin.StateGetActor answers. */
export function actorJson(actor: Actor) {
  const state = stateJson(actor)
  return {
    Code: cidJson(ACTOR_CODE_CIDS[actor.kind]),
    Head: headOf(state),
    Nonce: Number(actor.nonce),
    Balance: actor.balance.toString(),
    DelegatedAddress: null
  }
}

/** types.TipSet of one block at the chain's height. */
export function tipSetJson(chain: Chain, genesisTime: number) {
  const h = chain.height
  const cid = chain.tipsetCid(h)
  const block = {
    Miner: 'f0100',
    Ticket: { VRFProof: Buffer.from(cid.bytes).toString('base64') },
    ElectionProof: { WinCount: 1, VRFProof: Buffer.from(cid.bytes).toString('base64') },
    BeaconEntries: [],
    WinPoStProof: [],
    Parents: h > 0n ? [cidJson(chain.tipsetCid(h - 1n))] : [],
    ParentWeight: (h * 1000n).toString(),
    Height: Number(h),
    ParentStateRoot: cidJson(cid),
    ParentMessageReceipts: cidJson(cid),
    Messages: cidJson(cid),
    BLSAggregate: { Type: 2, Data: null },
    Timestamp: genesisTime + Number(h) * 30,
    BlockSig: { Type: 2, Data: null },
    ForkSignaling: 0,
    ParentBaseFee: BASE_FEE.toString()
  }
  return { Cids: [cidJson(cid)], Blocks: [block], Height: Number(h) }
}
