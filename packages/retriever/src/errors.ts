import type { ErrorClass } from '@autoretrieve/interface'
import type { FailureReason } from './types.ts'

/**
 * Why one attempt against one provider failed. `errorClass` is a stable code for records and
 * metrics, one of `ERROR_CLASSES` (documented in docs/INTERFACE.md "Retrieval error classes").
 */
export class AttemptError extends Error {
  static override name = 'AttemptError'
  override name = 'AttemptError'
  readonly errorClass: ErrorClass
  constructor(errorClass: ErrorClass, message: string, options?: ErrorOptions) {
    super(message, options)
    this.errorClass = errorClass
  }
}

/** Every candidate failed; keeps each attempt's error. */
export class RetrievalFailedError extends AggregateError {
  static override name = 'RetrievalFailedError'
  override name = 'RetrievalFailedError'
  readonly code = 'ERR_RETRIEVAL_FAILED'
  readonly reason: FailureReason
  constructor(reason: FailureReason, errors: Error[], message: string) {
    super(errors, message)
    this.reason = reason
  }
}

/** Every retrieval slot was taken and the queue behind them was full (outcome `overloaded`). */
export class QueueFullError extends Error {
  static override name = 'QueueFullError'
  override name = 'QueueFullError'
  readonly code = 'ERR_RETRIEVAL_QUEUE_FULL'
}
