// The Lotus stand-in's state tree: actors by ID, the address -> ID map, balances and nonces.
// Plain data with a deep copy, so that a failing message is undone by restoring the copy, as the
// VM reverts an aborted call.
import { type Address, addressId, addressToBytes, formatAddress, idAddress } from '@autoretrieve/chain'
import { FIRST_ACTOR_ID } from './lotus-constants.ts'

export interface LaneState {
  redeemed: bigint
  nonce: bigint
}

/** builtin-actors paych State (From and To are ID addresses). */
export interface PaychState {
  from: bigint
  to: bigint
  toSend: bigint
  settlingAt: bigint
  minSettleHeight: bigint
  lanes: Map<bigint, LaneState>
}

export type ActorKind = 'account' | 'init' | 'paymentchannel'

export interface Actor {
  id: bigint
  kind: ActorKind
  /** The key address (f1/f3) of an account, the f2 of an actor the init actor created. */
  robust?: Address
  balance: bigint
  /** Messages this actor has sent (accounts only). */
  nonce: bigint
  paych?: PaychState
}

/** The init actor's ID (INIT_ACTOR_ADDR f01). */
export const INIT_ACTOR_ID = 1n

const keyOf = (a: Address) => Buffer.from(addressToBytes(a)).toString('hex')

export class StateTree {
  private actors = new Map<bigint, Actor>()
  private ids = new Map<string, bigint>()
  private nextId = FIRST_ACTOR_ID

  /** What an f1/f3 address that has never been seen holds: "every address starts funded". */
  private readonly initialBalance: (a: Address) => bigint

  constructor(initialBalance: (a: Address) => bigint) {
    this.initialBalance = initialBalance
    this.actors.set(INIT_ACTOR_ID, { id: INIT_ACTOR_ID, kind: 'init', balance: 0n, nonce: 0n })
  }

  /** The actor behind an address, or undefined if it has none (yet). */
  get(address: Address): Actor | undefined {
    if (address.protocol === 0) {
      const id = addressId(address)
      return id === undefined ? undefined : this.actors.get(id)
    }
    const id = this.ids.get(keyOf(address))
    return id === undefined ? undefined : this.actors.get(id)
  }

  /**
   * The actor behind an address, creating the account of a key address (f1, f3) on first use as
   * the VM does when a key address receives a message; undefined for an ID or f2 with no actor.
   */
  getOrCreate(address: Address): Actor | undefined {
    const found = this.get(address)
    if (found !== undefined || (address.protocol !== 1 && address.protocol !== 3)) return found
    return this.create('account', address, this.initialBalance(address))
  }

  create(kind: ActorKind, robust: Address, balance: bigint): Actor {
    const actor: Actor = { id: this.nextId++, kind, robust, balance, nonce: 0n }
    this.actors.set(actor.id, actor)
    this.ids.set(keyOf(robust), actor.id)
    return actor
  }

  /** The balance an address has or, for a key address never seen, will start with. */
  balanceOf(address: Address): bigint {
    const actor = this.get(address)
    if (actor !== undefined) return actor.balance
    return address.protocol === 1 || address.protocol === 3 ? this.initialBalance(address) : 0n
  }

  /** Deletes an actor (paych Collect); its addresses no longer resolve. */
  delete(actor: Actor) {
    this.actors.delete(actor.id)
    if (actor.robust !== undefined) this.ids.delete(keyOf(actor.robust))
  }

  byId(id: bigint): Actor | undefined {
    return this.actors.get(id)
  }

  /** Every live payment channel actor. */
  channels(): Actor[] {
    return [...this.actors.values()].filter((a) => a.kind === 'paymentchannel')
  }

  /** A deep copy to restore when a message aborts. */
  snapshot(): StateTree {
    const copy = Object.create(StateTree.prototype) as StateTree
    Object.assign(copy, this)
    copy.actors = new Map()
    for (const [id, a] of this.actors) {
      copy.actors.set(id, {
        ...a,
        paych: a.paych && {
          ...a.paych,
          lanes: new Map([...a.paych.lanes].map(([lane, s]) => [lane, { ...s }]))
        }
      })
    }
    copy.ids = new Map(this.ids)
    return copy
  }

  /** Takes over a snapshot's contents (the revert). */
  restore(from: StateTree) {
    this.actors = from.actors
    this.ids = from.ids
    this.nextId = from.nextId
  }
}

/** The ID address string of an actor, as state and receipts show it (f0…). */
export const idString = (id: bigint) => formatAddress(idAddress(id))
