import type { CID } from 'multiformats/cid'

export type TaskKind = 'block' | 'have' | 'dont-have'

export interface Task {
  key: string
  cid: CID
  kind: TaskKind
  priority: number
  /** Whether a DONT_HAVE may be sent if the block is gone at send time. */
  sendDontHave: boolean
  /** For dont-have: why (metrics and records). */
  reason?: string
  /** The block itself, when it reached us while the peer waited (verified; sent without a read). */
  bytes?: Uint8Array
  seq: number
}

/** Bytes held in tasks across every peer's queue: one count the server bounds as a whole. */
export interface HeldBytes {
  bytes: number
}

/**
 * One peer's pending responses, highest priority first, then oldest first. One task per
 * multihash: a newer answer (a block after a DONT_HAVE) replaces an older one. Bounded: the
 * task count never exceeds the wantlist cap, since every task answers a want.
 */
export class PeerQueue {
  private readonly tasks = new Map<string, Task>()
  private seq = 0
  private held = 0
  private readonly shared: HeldBytes

  constructor(shared: HeldBytes = { bytes: 0 }) {
    this.shared = shared
  }

  /** Bytes of the blocks held in this queue's tasks (`Task.bytes`), for the server to bound. */
  get heldBytes(): number {
    return this.held
  }

  private hold(delta: number): void {
    this.held += delta
    this.shared.bytes += delta
  }

  push(task: Omit<Task, 'seq'>): void {
    const existing = this.tasks.get(task.key)
    // A block or HAVE is never downgraded by a later DONT_HAVE for the same want.
    if (existing !== undefined && existing.kind !== 'dont-have' && task.kind === 'dont-have') return
    this.hold((task.bytes?.byteLength ?? 0) - (existing?.bytes?.byteLength ?? 0))
    this.tasks.set(task.key, { ...task, seq: existing?.seq ?? this.seq++ })
  }

  /** Puts back a popped task that could not be sent yet, in its old place (unless re-asked meanwhile). */
  requeue(task: Task): void {
    if (this.tasks.has(task.key)) return
    this.tasks.set(task.key, task)
    this.hold(task.bytes?.byteLength ?? 0)
  }

  /**
   * The next task: highest priority, then (among equals) one `preferred` says yes to, then oldest.
   * The server prefers blocks it has just sent another peer: they are still in the cache's memory,
   * and peers fetching the same DAG then move through it together instead of each on its own.
   */
  pop(preferred?: (task: Task) => boolean): Task | undefined {
    let best: Task | undefined
    let bestPreferred = false
    for (const task of this.tasks.values()) {
      if (best !== undefined && task.priority < best.priority) continue
      const isPreferred = preferred?.(task) ?? false
      if (
        best === undefined ||
        task.priority > best.priority ||
        (isPreferred && !bestPreferred) ||
        (isPreferred === bestPreferred && task.seq < best.seq)
      ) {
        best = task
        bestPreferred = isPreferred
      }
    }
    if (best !== undefined) {
      this.tasks.delete(best.key)
      this.hold(-(best.bytes?.byteLength ?? 0))
    }
    return best
  }

  remove(key: string): void {
    this.hold(-(this.tasks.get(key)?.bytes?.byteLength ?? 0))
    this.tasks.delete(key)
  }

  get size(): number {
    return this.tasks.size
  }

  clear(): void {
    this.tasks.clear()
    this.hold(-this.held)
  }
}
