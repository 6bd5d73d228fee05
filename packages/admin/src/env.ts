/** Hono context variables shared by every route file. */
export interface AppEnv {
  Variables: {
    requestId: string
  }
}

export interface Logger {
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
  debug(obj: unknown, msg?: string): void
}

/** A readiness probe: resolves when the dependency is usable, throws (with a reason) when not. */
export type ReadinessCheck = () => Promise<void>
