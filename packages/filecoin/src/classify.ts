// Provider failures by class, for records and metrics (the retriever's `errorClass` values for
// Filecoin providers: rejected, too_many_deals, under_maintenance, access_control, timeout, other).
import { DealRejectedError } from './errors.ts'
import { findTransferMessage, interpretTransferMessage } from './outcome.ts'

export const ProviderErrorClass = Object.freeze({
  Rejected: 'rejected',
  TooManyDeals: 'too_many_deals',
  UnderMaintenance: 'under_maintenance',
  AccessControl: 'access_control',
  Timeout: 'timeout',
  Other: 'other'
} as const)
export type ProviderErrorClass = (typeof ProviderErrorClass)[keyof typeof ProviderErrorClass]

const TOO_MANY_DEALS = /too many|retrieval deals|concurrent/i
const UNDER_MAINTENANCE = /maintenance/i
const ACCESS_CONTROL = /access|denied|not allowed|unauthori[sz]ed/i
const TIMEOUT = /time[sd]? ?out|deadline exceeded/i
const REJECTED = /reject/i
/** Graphsync's RequestRejected status: the provider refused the request outright. */
const GRAPHSYNC_REJECTED = 30
const MAX_CAUSE_DEPTH = 8

/** A reason the provider gave, by its words; undefined when they say nothing we know. */
function classOfReason(text: string): ProviderErrorClass | undefined {
  if (TOO_MANY_DEALS.test(text)) return ProviderErrorClass.TooManyDeals
  if (UNDER_MAINTENANCE.test(text)) return ProviderErrorClass.UnderMaintenance
  if (ACCESS_CONTROL.test(text)) return ProviderErrorClass.AccessControl
  if (TIMEOUT.test(text)) return ProviderErrorClass.Timeout
  return undefined
}

function isTimeoutError(err: Error): boolean {
  // TimeoutError (AbortSignal.timeout), and our own *TimeoutError classes.
  return err.name.endsWith('TimeoutError') || (err as { code?: unknown }).code === 'ETIMEDOUT'
}

/**
 * The provider's rejection text inside an error: a DealRejectedError's message from the provider,
 * or the data-transfer rejection in the extensions a Graphsync RequestFailedError keeps.
 */
function rejectionOf(err: Error): { text: string } | undefined {
  if (err instanceof DealRejectedError || err.name === 'DealRejectedError') {
    return { text: (err as DealRejectedError).providerMessage ?? '' }
  }
  const { extensions, status } = err as { extensions?: unknown; status?: unknown }
  if (extensions !== null && typeof extensions === 'object') {
    try {
      const message = findTransferMessage(extensions as Record<string, unknown>)
      if (message !== undefined) {
        const outcome = interpretTransferMessage(message)
        if (outcome.kind === 'rejected') return { text: outcome.message }
      }
    } catch {
      // Not a readable data-transfer message: judge by the rest.
    }
  }
  if (status === GRAPHSYNC_REJECTED) return { text: '' }
  return undefined
}

/**
 * The metrics class of a provider failure. Given a string, it is the provider's own message (a
 * DealResponse `Message`): matched for too many deals / maintenance / access control / timeout, and
 * `rejected` otherwise. Given an error, its cause chain is searched: a timeout (`TimeoutError`) is
 * `timeout`; a provider rejection (DealRejectedError, or a Graphsync failure whose extensions
 * carry a rejection, or Graphsync status 30) is classed by the provider's words, `rejected` when
 * they match nothing; other errors are classed by their messages, `other` when nothing matches.
 */
export function classifyProviderError(errOrMessage: unknown): ProviderErrorClass {
  if (typeof errOrMessage === 'string') return classOfReason(errOrMessage) ?? ProviderErrorClass.Rejected
  const chain: Error[] = []
  let current: unknown = errOrMessage
  while (current instanceof Error && chain.length < MAX_CAUSE_DEPTH) {
    chain.push(current)
    current = current.cause
  }
  if (chain.length === 0) return ProviderErrorClass.Other
  if (chain.some(isTimeoutError)) return ProviderErrorClass.Timeout
  for (const err of chain) {
    const rejection = rejectionOf(err)
    if (rejection !== undefined) return classOfReason(rejection.text) ?? ProviderErrorClass.Rejected
  }
  const text = chain.map((err) => err.message).join('\n')
  return classOfReason(text) ?? (REJECTED.test(text) ? ProviderErrorClass.Rejected : ProviderErrorClass.Other)
}
