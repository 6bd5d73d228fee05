import { LRUCache } from 'lru-cache'
import { MAX_SCORED_PROVIDERS, SCORE_ALPHA } from './constants.ts'

interface Score {
  successRate: number
  ttfbMs: number
  bytesPerSecond: number
  attempts: number
}

/** The score of a provider with no history: after a known-good one, before a known-bad one. */
const NEUTRAL = 0.5

/**
 * What past attempts taught us about each provider: moving averages of success, time to first
 * byte and throughput. Unknown providers start neutral (0.5), so a new provider is tried before a
 * known-bad one and after a known-good one. At most `maxProviders` are remembered (the least
 * recently used is forgotten first), since the indexer, not us, decides how many we meet.
 */
export class ProviderScores {
  private readonly scores: LRUCache<string, Score>

  constructor(maxProviders: number = MAX_SCORED_PROVIDERS) {
    this.scores = new LRUCache({ max: maxProviders })
  }

  /** Providers remembered now. */
  get size(): number {
    return this.scores.size
  }

  record(provider: string, outcome: { ok: boolean; ttfbMs?: number; bytes?: number; durationMs?: number }): void {
    const s = this.scores.get(provider) ?? { successRate: NEUTRAL, ttfbMs: 0, bytesPerSecond: 0, attempts: 0 }
    const a = SCORE_ALPHA
    s.successRate = (1 - a) * s.successRate + a * (outcome.ok ? 1 : 0)
    if (outcome.ttfbMs !== undefined)
      s.ttfbMs = s.attempts === 0 ? outcome.ttfbMs : (1 - a) * s.ttfbMs + a * outcome.ttfbMs
    if (outcome.ok && outcome.bytes && outcome.durationMs) {
      const bps = outcome.bytes / Math.max(outcome.durationMs / 1000, 0.001)
      s.bytesPerSecond = s.bytesPerSecond === 0 ? bps : (1 - a) * s.bytesPerSecond + a * bps
    }
    s.attempts++
    this.scores.set(provider, s)
  }

  /** Higher is better: success dominates, then speed. */
  score(provider: string): number {
    const s = this.scores.get(provider)
    if (s === undefined) return NEUTRAL
    const speed = s.bytesPerSecond > 0 ? Math.min(1, Math.log10(1 + s.bytesPerSecond / 1e6) / 3) : 0
    const latency = s.ttfbMs > 0 ? Math.max(0, 1 - s.ttfbMs / 10_000) : 0
    return s.successRate * 0.8 + speed * 0.15 + latency * 0.05
  }
}
