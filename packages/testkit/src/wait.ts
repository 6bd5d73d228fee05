import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Waits until `cond` holds, checking every `intervalMs` for at most `timeoutMs` (so a bounded
 * number of checks); throws naming `what` otherwise. For tests that wait on an event they can
 * only observe, instead of sleeping for a guess.
 */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  { timeoutMs = 5_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {}
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

/** A logger (the `Logger` shape) that keeps every line, to check what was and was not logged. */
export function capturingLogger() {
  const lines: Array<{ level: string; obj: unknown; msg?: string }> = []
  const at = (level: string) => (obj: unknown, msg?: string) => {
    lines.push({ level, obj, msg })
  }
  return {
    lines,
    logger: { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  }
}
