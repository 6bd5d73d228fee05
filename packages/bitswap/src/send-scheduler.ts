import type { Logger } from '@autoretrieve/interface'
import { RETRY_BASE_MS, RETRY_MAX_MS } from './constants.ts'

export interface SendSchedulerComponents {
  logger: Logger
  /** Whether the peer has answers queued (and is still known). */
  hasWork(peer: string): boolean
  /** Sends one batch (one message) of the peer's answers; a rejection is a failed batch. */
  send(peer: string): Promise<void>
}

export interface SendSchedulerInit {
  /** Peers being sent to at once. */
  concurrency: number
}

interface PeerTurn {
  sending: boolean
  /** Batches that failed in a row: the next try waits, doubling from RETRY_BASE_MS. */
  failures: number
  retryTimer?: NodeJS.Timeout
}

/**
 * Which peer's batch goes next: peers with answers wait in arrival order, at most `concurrency`
 * are sent to at once, one batch per peer at a time, and a peer whose batch failed waits before
 * its next (RETRY_BASE_MS doubling to RETRY_MAX_MS). After each batch the peer rejoins the end of
 * the line if it has more, so one peer with a long wantlist never holds a writer for the others.
 */
export class SendScheduler {
  private readonly components: SendSchedulerComponents
  private readonly concurrency: number
  private readonly turns = new Map<string, PeerTurn>()
  private readonly ready: string[] = []
  private readonly readySet = new Set<string>()
  private active = 0
  private running = false

  constructor(components: SendSchedulerComponents, init: SendSchedulerInit) {
    this.components = components
    this.concurrency = init.concurrency
  }

  start(): void {
    this.running = true
  }

  stop(): void {
    this.running = false
    for (const id of [...this.turns.keys()]) this.forget(id)
    this.ready.length = 0
    this.readySet.clear()
  }

  private turn(peer: string): PeerTurn {
    let turn = this.turns.get(peer)
    if (turn === undefined) {
      turn = { sending: false, failures: 0 }
      this.turns.set(peer, turn)
    }
    return turn
  }

  /** Whether a batch is being sent to the peer now. */
  isSending(peer: string): boolean {
    return this.turns.get(peer)?.sending === true
  }

  /** Puts the peer in line if it has work and is neither in line nor being sent to. */
  schedule(peer: string): void {
    if (!this.components.hasWork(peer) || this.isSending(peer) || this.readySet.has(peer)) return
    this.readySet.add(peer)
    this.ready.push(peer)
    this.pump()
  }

  /** Drops a peer's turn and pending retry; a batch under way finishes without rescheduling it. */
  forget(peer: string): void {
    const turn = this.turns.get(peer)
    if (turn === undefined) return
    clearTimeout(turn.retryTimer)
    this.turns.delete(peer)
  }

  private pump(): void {
    while (this.running && this.active < this.concurrency && this.ready.length > 0) {
      const id = this.ready.shift()!
      this.readySet.delete(id)
      if (this.isSending(id) || !this.components.hasWork(id)) continue
      const turn = this.turn(id)
      turn.sending = true
      this.active++
      this.components
        .send(id)
        .then(() => {
          turn.failures = 0
        })
        .catch((err) => {
          turn.failures++
          this.components.logger.debug({ err, peer: id }, 'bitswap send failed')
        })
        .finally(() => {
          turn.sending = false
          this.active--
          if (this.turns.get(id) === turn) {
            if (turn.failures === 0) this.schedule(id)
            else this.retryLater(id, turn)
          }
          this.pump()
        })
    }
  }

  /**
   * Tries a peer's queue again after a failed batch, not at once: a connection that just closed is
   * still listed until its close event runs, and each dial on it failed at once, so retrying
   * straight away spun the event loop (that close event never ran, and the node froze).
   */
  private retryLater(id: string, turn: PeerTurn): void {
    if (turn.retryTimer !== undefined) return
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(turn.failures - 1, 10))
    turn.retryTimer = setTimeout(() => {
      turn.retryTimer = undefined
      if (this.turns.get(id) === turn) this.schedule(id)
    }, delay)
    turn.retryTimer.unref?.()
  }
}
