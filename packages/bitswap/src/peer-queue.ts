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

/**
 * One peer's pending responses, highest priority first, then oldest first. One task per
 * multihash: a newer answer (a block after a DONT_HAVE) replaces an older one. Bounded: the
 * task count never exceeds the wantlist cap, since every task answers a want.
 */
export class PeerQueue {
  private readonly tasks = new Map<string, Task>()
  private seq = 0
  /** Bytes of the blocks held in tasks (`Task.bytes`), for the server to bound. */
  heldBytes = 0

  push(task: Omit<Task, 'seq'>): void {
    const existing = this.tasks.get(task.key)
    // A block or HAVE is never downgraded by a later DONT_HAVE for the same want.
    if (existing !== undefined && existing.kind !== 'dont-have' && task.kind === 'dont-have') return
    this.heldBytes += (task.bytes?.byteLength ?? 0) - (existing?.bytes?.byteLength ?? 0)
    this.tasks.set(task.key, { ...task, seq: existing?.seq ?? this.seq++ })
  }

  /** The next task: highest priority, then oldest. */
  pop(): Task | undefined {
    let best: Task | undefined
    for (const task of this.tasks.values()) {
      if (
        best === undefined ||
        task.priority > best.priority ||
        (task.priority === best.priority && task.seq < best.seq)
      )
        best = task
    }
    if (best !== undefined) {
      this.tasks.delete(best.key)
      this.heldBytes -= best.bytes?.byteLength ?? 0
    }
    return best
  }

  remove(key: string): void {
    this.heldBytes -= this.tasks.get(key)?.bytes?.byteLength ?? 0
    this.tasks.delete(key)
  }

  get size(): number {
    return this.tasks.size
  }

  clear(): void {
    this.tasks.clear()
    this.heldBytes = 0
  }
}
