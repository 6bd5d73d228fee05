import type { Logger } from '@autoretrieve/interface'
import { type BlockIndex, multihashOfKey } from './block-index.ts'
import { type CompactableLog, deadBytes, needsPrune, reclaim } from './compaction.ts'
import { PRUNE_INTERVAL_MS } from './constants.ts'
import { RecordKind } from './record.ts'

export interface PruneResult {
  removedBlocks: number
  removedBytes: number
}

export interface PrunerComponents {
  log: CompactableLog
  index: BlockIndex
  logger: Logger
  /** Whether the cache runs and may write (false once it stops, and always when read-only). */
  running(): boolean
  /** A put of this block is under way. */
  putting(key: string): boolean
  /** Takes a block out of the index and out of memory, nothing recorded. */
  lost(key: string): void
}

export interface PrunerInit {
  /** Prune least recently used blocks above this size of the log; 0: never (dead space is still given back). */
  thresholdBytes: number
  /** ... down to this much of the blocks' records. */
  lowWaterBytes: number
  /** Blocks used within this long are never pruned. */
  pinMs: number
  now(): number
}

/**
 * Pruning: least recently used blocks out when the log is over the threshold, then compaction
 * (compaction.ts) gives the space back. One prune at a time; checked every PRUNE_INTERVAL_MS and
 * after every put.
 */
export class Pruner {
  /** Blocks removed by pruning since the start. */
  pruned = 0
  private readonly components: PrunerComponents
  private readonly init: PrunerInit
  private pruning: Promise<PruneResult> | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(components: PrunerComponents, init: PrunerInit) {
    this.components = components
    this.init = init
  }

  start(): void {
    this.timer = setInterval(() => this.maybePrune(), PRUNE_INTERVAL_MS)
    this.timer.unref()
    this.maybePrune()
  }

  /** Stops the checks and waits for a prune under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.pruning?.catch(() => {})
  }

  /** Schedules a prune when one is due (needsPrune) and none runs. */
  maybePrune(): void {
    const { log, index, logger, running } = this.components
    if (!running() || this.pruning !== undefined) return
    const state = { diskBytes: log.bytes(), deadBytes: deadBytes(log, index), thresholdBytes: this.init.thresholdBytes }
    if (!needsPrune(state)) return
    setImmediate(() => {
      if (running()) this.prune().catch((err) => logger.warn({ err }, 'prune failed'))
    })
  }

  prune(): Promise<PruneResult> {
    // One prune at a time; a call during one runs again after it, with the clock as it is now.
    if (this.pruning) return this.pruning.catch(() => {}).then(() => this.prune())
    this.pruning = this.run().finally(() => {
      this.pruning = undefined
    })
    return this.pruning
  }

  private async run(): Promise<PruneResult> {
    const { log, index, logger, running } = this.components
    const { thresholdBytes, lowWaterBytes } = this.init
    const result = { removedBlocks: 0, removedBytes: 0 }
    if (!running()) return result
    if (thresholdBytes > 0 && log.bytes() > thresholdBytes) {
      const gone = this.evict(result)
      // Down to the threshold, not to low water: the log always holds more than the blocks'
      // records, so aiming lower could copy every segment forward on every prune.
      await reclaim(this.components, thresholdBytes)
      await this.recordDrops(gone)
      if (log.bytes() > thresholdBytes && index.liveSpan > lowWaterBytes) {
        logger.warn(
          { bytes: index.bytes, diskBytes: log.bytes(), threshold: thresholdBytes },
          'cache is over prune-threshold but every remaining block is pinned (used within pin-duration)'
        )
      }
    } else {
      // Under the threshold (or none): give back dead space, as far as it is worth copying.
      await reclaim(this.components, index.liveSpan)
    }
    logger.debug({ ...result, bytes: index.bytes, diskBytes: log.bytes() }, 'pruned the block cache')
    return result
  }

  /** Takes the blocks of the eviction plan out of the index; returns them with the segments they were in. */
  private evict(result: PruneResult): Array<[string, { segment: number }]> {
    const { index, lost } = this.components
    const plan = index.evictionPlan(this.init.now() - this.init.pinMs, this.init.lowWaterBytes)
    for (const [key, entry] of plan) {
      lost(key)
      result.removedBlocks++
      result.removedBytes += entry.size
    }
    this.pruned += plan.length
    return plan
  }

  /**
   * A pruned block whose segment is still there gets a drop record, or a restart would find it;
   * not one put again meanwhile (a drop after its new record would drop that).
   */
  private async recordDrops(gone: Array<[string, { segment: number }]>): Promise<void> {
    const { log, index, putting } = this.components
    const remaining = new Set(log.list().map((s) => s.id))
    await Promise.all(
      gone
        .filter(([key, e]) => remaining.has(e.segment) && !index.has(key) && !putting(key))
        .map(([key]) => log.append(RecordKind.drop, multihashOfKey(key), this.init.now()).catch(() => {}))
    )
  }
}
