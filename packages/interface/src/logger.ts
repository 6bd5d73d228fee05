/**
 * The logger every package takes in its components: pino's call shape (`log.info({ cid }, 'msg')`),
 * so the app passes one pino child per component and tests pass a silent or recording object.
 * `trace` is optional because hand-made test loggers rarely need it.
 */
export interface Logger {
  trace?(obj: unknown, msg?: string): void
  debug(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
}

/** A logger that drops everything: the default where a component is given none. */
export const silentLogger: Logger = Object.freeze({
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {}
})
