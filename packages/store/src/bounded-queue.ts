/**
 * A FIFO that holds at most `max` items and drops the oldest past that, in O(1) per item. Items
 * are read in batches (`peek`) and removed only once handled (`ack`), so items that arrive,
 * or are dropped, while a batch is being written are accounted for exactly.
 */
export class BoundedQueue<T> {
  readonly max: number
  #items: T[] = []
  #head = 0
  /** Sequence number of the item at #head; every pushed item gets the next one. */
  #headSeq = 0

  constructor(max: number) {
    this.max = max
  }

  get size(): number {
    return this.#items.length - this.#head
  }

  /** Adds an item; returns how many old items were dropped to make room (0 or 1). */
  push(item: T): number {
    this.#items.push(item)
    if (this.size <= this.max) return 0
    this.#advance(1)
    return 1
  }

  /** Up to `n` oldest items and the sequence number of the first, to `ack` later. */
  peek(n: number): { seq: number; items: T[] } {
    return { seq: this.#headSeq, items: this.#items.slice(this.#head, this.#head + n) }
  }

  /** Removes the items of a batch from `peek`, unless they were already dropped meanwhile. */
  ack(seq: number, count: number): void {
    const end = seq + count
    if (end > this.#headSeq) this.#advance(end - this.#headSeq)
  }

  #advance(n: number): void {
    // Let handled or dropped items be collected before the next compaction.
    for (let i = this.#head; i < this.#head + n && i < this.#items.length; i++) this.#items[i] = undefined as T
    this.#head += n
    this.#headSeq += n
    // Compact once the dead prefix is both large and most of the array: amortised O(1).
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }
}
