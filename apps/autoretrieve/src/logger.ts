import { type Logger as PinoLogger, pino } from 'pino'

export type Logger = PinoLogger

/**
 * Readable lines on a terminal, JSON otherwise (so log shippers get structure). LOG_LEVEL picks
 * the level (default info). Logs go to stderr: stdout is kept for command output (`id`, `print-config`).
 */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info'
  const pretty = opts.pretty ?? process.stderr.isTTY === true
  if (pretty) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } }
    })
  }
  return pino({ level, base: { name: 'autoretrieve' } }, pino.destination({ fd: 2, sync: false }))
}
