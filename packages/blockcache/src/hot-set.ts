/**
 * Recently read blocks kept in memory, least recently used out first, bounded by bytes. Only
 * bytes that were verified against their multihash go in (the cache verifies a block when it is
 * read from disk), so a hit is served without touching the disk or hashing again. When several
 * peers fetch the same DAG at once, each block is then read and hashed once, not once per peer,
 * and the peers share one copy of it in memory instead of holding one each.
 * Plain data, no I/O. The bytes are shared with every reader: nobody may modify them.
 */
export interface HotSetOptions {
  /** Larger blocks are not kept (one would crowd out many small ones). Default: an eighth of the bound. */
  maxBlockBytes?: number
  /** What one entry counts against the bound. Default: its length. */
  weigh?: (bytes: Uint8Array) => number
}

export class HotSet {
  private readonly entries = new Map<string, Uint8Array>()
  private readonly maxBytes: number
  private readonly maxBlockBytes: number
  private readonly weigh: (bytes: Uint8Array) => number
  private total = 0
  hits = 0

  constructor(maxBytes: number, options: HotSetOptions = {}) {
    this.maxBytes = maxBytes
    this.maxBlockBytes = options.maxBlockBytes ?? Math.floor(maxBytes / 8)
    this.weigh = options.weigh ?? ((bytes) => bytes.byteLength)
  }

  /** The entry without counting a hit or making it the most recently used. */
  peek(key: string): Uint8Array | undefined {
    return this.entries.get(key)
  }

  get(key: string): Uint8Array | undefined {
    const bytes = this.entries.get(key)
    if (bytes === undefined) return undefined
    // Map order is insertion order: re-inserting makes this the most recently used.
    this.entries.delete(key)
    this.entries.set(key, bytes)
    this.hits++
    return bytes
  }

  add(key: string, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxBlockBytes || bytes.byteLength > this.maxBytes) return
    this.delete(key)
    this.entries.set(key, bytes)
    this.total += this.weigh(bytes)
    for (const [oldest, b] of this.entries) {
      if (this.total <= this.maxBytes) break
      this.entries.delete(oldest)
      this.total -= this.weigh(b)
    }
  }

  delete(key: string): void {
    const bytes = this.entries.get(key)
    if (bytes === undefined) return
    this.entries.delete(key)
    this.total -= this.weigh(bytes)
  }

  clear(): void {
    this.entries.clear()
    this.total = 0
  }

  get blocks(): number {
    return this.entries.size
  }

  get bytes(): number {
    return this.total
  }
}
