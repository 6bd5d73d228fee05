import { formatFil } from '@autoretrieve/chain'

/**
 * Explain as sentences: what holds now for a CID and what its history says, from the structured
 * answer alone. Error classes and reasons are printed as they are stored, never interpreted, so a
 * class added later (an indexer failure, a new refusal) reads as itself, not as another one.
 */

/** The deny entry that matches a CID: which list, the entry as written, where it came from. */
export interface DenyRule {
  list: string
  value: string
  origin: string
  reason?: string
  added?: { version: number; instance: string; at: string; file?: string }
}

export interface ExplainFacts {
  cid: string
  policyVersion: number
  instance: string | null
  rule: DenyRule | null
  deniedNow: boolean
  cachedNow: boolean
  retrievals: ReadonlyArray<RetrievalFacts>
  refusals: ReadonlyArray<{ instance?: string; peer: string; reason: string; policyVersion: number; at: Date | string }>
}

interface RetrievalFacts {
  instance?: string
  status: string
  reason: string | null
  startedAt: Date | string
  bytes: number
  /** attoFIL paid (decimal string); null or absent: nothing. */
  cost?: string | null
  policyVersion: number
  candidates?: ReadonlyArray<{ provider: string; verdict: string; reason: string | null }>
  attempts?: ReadonlyArray<{
    provider: string
    protocol: string
    outcome: string
    errorClass: string | null
    errorMessage: string | null
    cost?: string | null
    paymentChannel?: string | null
  }>
}

/** ", paying 0.0015 FIL (1500000000000000 attoFIL)"-style words for a cost, or '' when nothing was paid. */
function paying(cost: string | null | undefined, verb: string, channel?: string | null): string {
  // The store writes only decimal amounts; anything else is not an amount to print.
  if (typeof cost !== 'string' || !/^\d{1,78}$/.test(cost) || BigInt(cost) === 0n) return ''
  return `, ${verb} ${formatFil(BigInt(cost))} (${cost} attoFIL)${channel ? ` on payment channel ${channel}` : ''}`
}

const iso = (d: Date | string) => (typeof d === 'string' ? d : d.toISOString())
const on = (instance: string | undefined | null) => (instance ? ` on instance "${instance}"` : '')

export function ruleSentence(rule: DenyRule): string {
  const why = rule.reason ? `, reason "${rule.reason}"` : ''
  const a = rule.added
  let from = rule.origin === 'config' ? 'from config.yaml' : `from the ${rule.origin}`
  if (a !== undefined) {
    from =
      rule.origin === 'config'
        ? `from config.yaml ${a.file ?? ''} of instance "${a.instance}", stored at policy version ${a.version} (${a.at})`
        : `added through the ${rule.origin} by instance "${a.instance}" at policy version ${a.version} (${a.at})`
  }
  return `Denied by the ${rule.list} entry ${rule.value}, ${from.replace(/ {2,}/g, ' ')}${why}.`
}

export function explainSentences(f: ExplainFacts): string[] {
  const out: string[] = []
  const here = on(f.instance)
  if (f.rule !== null) out.push(`${ruleSentence(f.rule)} In force at policy version ${f.policyVersion}${here}.`)
  else if (f.deniedNow) out.push(`Denied at policy version ${f.policyVersion}${here}.`)
  else out.push(`Not denied at policy version ${f.policyVersion}${here}.`)
  out.push(f.cachedNow ? `Cached${here}.` : `Not cached${here}.`)

  const last = f.retrievals[0]
  if (last === undefined) out.push('No retrieval of it is recorded.')
  else {
    const ended =
      last.status === 'running'
        ? 'is still running'
        : last.status === 'success'
          ? `succeeded with ${last.bytes} bytes${paying(last.cost, 'paying')}`
          : `failed${last.reason ? ` with error class ${last.reason}` : ''}${paying(last.cost, 'having paid')}`
    out.push(
      `The latest of ${f.retrievals.length} recorded retrieval${f.retrievals.length === 1 ? '' : 's'} started ${iso(last.startedAt)}${on(last.instance)} at policy version ${last.policyVersion} and ${ended}.`
    )
    const cands = last.candidates ?? []
    if (cands.length > 0) {
      const dropped = cands.filter((c) => c.verdict !== 'accepted')
      const why = [...new Set(dropped.map((c) => c.reason ?? 'no reason given'))].join(', ')
      out.push(
        `It had ${cands.length} candidate${cands.length === 1 ? '' : 's'}: ${cands.length - dropped.length} accepted, ${dropped.length} dropped${dropped.length > 0 ? ` (${why})` : ''}.`
      )
    }
    for (const a of last.attempts ?? []) {
      const err = a.errorClass ? ` (error class ${a.errorClass}${a.errorMessage ? `: ${a.errorMessage}` : ''})` : ''
      out.push(
        `Attempt at ${a.provider} over ${a.protocol}: ${a.outcome}${err}${paying(a.cost, 'paid', a.paymentChannel)}.`
      )
    }
  }

  if (f.refusals.length > 0) {
    const r = f.refusals[0]
    out.push(
      `Refused ${f.refusals.length} time${f.refusals.length === 1 ? '' : 's'} (recent first); the latest to peer ${r.peer}${on(r.instance)} at ${iso(r.at)}: ${r.reason}, policy version ${r.policyVersion}.`
    )
  }
  return out
}
