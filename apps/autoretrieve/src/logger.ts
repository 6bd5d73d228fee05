import { type Logger as PinoLogger, pino } from 'pino'
import pretty from 'pino-pretty'

export type Logger = PinoLogger

/** `log-format`: auto picks by whether the log stream is a terminal. */
export type LogFormat = 'auto' | 'pretty' | 'json'

/**
 * Readable lines on a terminal, JSON otherwise (so log shippers get structure); `format` pretty
 * or json forces one. LOG_LEVEL picks the level (default info). Logs go to stderr: stdout is kept
 * for command output (`id`, `print-config`), so "a terminal" means stderr is one.
 * The readable form is pino-pretty as an in-process stream, not a worker transport: a line
 * logged just before `process.exit` is written, and the first line does not wait for a thread.
 */
export function createLogger(opts: { level?: string; format?: LogFormat; isTTY?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info'
  const format = opts.format ?? 'auto'
  const tty = opts.isTTY ?? process.stderr.isTTY === true
  if (format === 'pretty' || (format === 'auto' && tty)) {
    return pino(
      { level },
      pretty({
        destination: 2,
        sync: true,
        colorize: tty,
        translateTime: 'SYS:HH:MM:ss.l',
        // The start-up summary's facts are in its lines already; `start` is for JSON readers.
        ignore: 'pid,hostname,start'
      })
    )
  }
  return pino({ level, base: { name: 'autoretrieve' } }, pino.destination({ fd: 2, sync: false }))
}
