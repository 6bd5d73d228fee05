/**
 * A bounded hand-off from one producer (a request's traversal) to one consumer (the caller's
 * `for await`): the producer waits while more than `max` items are queued, so the walk never runs
 * far ahead of what the caller takes; when the consumer leaves, a waiting producer is told so.
 * Hand-written: it-pushable and friends do not make the producer wait.
 */
export class Handoff<T> {
  readonly #items: T[] = []
  readonly #max: number
  #wakeConsumer?: () => void
  #wakeProducer?: () => void
  #ended = false
  #closed = false

  constructor(max: number) {
    this.#max = max
  }

  /** Queues an item, then waits while over the bound. Answers false once the consumer has left. */
  async put(item: T): Promise<boolean> {
    this.#items.push(item)
    this.#wakeConsumer?.()
    while (this.#items.length > this.#max && !this.#closed) {
      await new Promise<void>((resolve) => {
        this.#wakeProducer = resolve
      })
    }
    return !this.#closed
  }

  /** The producer is done: the consumer ends once it has taken what is queued. */
  end(): void {
    this.#ended = true
    this.#wakeConsumer?.()
  }

  /** The consumer has left: a producer waiting for room wakes and is told so. */
  close(): void {
    this.#closed = true
    this.#wakeProducer?.()
  }

  /** The items in order, until the producer ends. */
  async *items(): AsyncGenerator<T, void, undefined> {
    while (true) {
      if (this.#items.length > 0) {
        const item = this.#items.shift() as T
        this.#wakeProducer?.()
        this.#wakeProducer = undefined
        yield item
        continue
      }
      if (this.#ended) return
      await new Promise<void>((resolve) => {
        this.#wakeConsumer = resolve
      })
      this.#wakeConsumer = undefined
    }
  }
}
