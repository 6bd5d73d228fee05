/**
 * Keys of the blocks taken last, up to `maxBytes` of their sizes, oldest forgotten first. Plain
 * data: a Map in insertion order.
 */
export class RecentKeys {
  private readonly keys = new Map<string, number>()
  private readonly maxBytes: number
  private total = 0

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  add(key: string, size: number): void {
    this.delete(key)
    if (size > this.maxBytes) return
    this.keys.set(key, size)
    this.total += size
    for (const [oldest, s] of this.keys) {
      if (this.total <= this.maxBytes) break
      this.keys.delete(oldest)
      this.total -= s
    }
  }

  has(key: string): boolean {
    return this.keys.has(key)
  }

  private delete(key: string): void {
    const size = this.keys.get(key)
    if (size === undefined) return
    this.keys.delete(key)
    this.total -= size
  }

  get size(): number {
    return this.keys.size
  }

  get bytes(): number {
    return this.total
  }
}
