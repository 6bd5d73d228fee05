/** Hono context variables shared by every route file. */
export interface AppEnv {
  Variables: {
    requestId: string
  }
}

/** A readiness probe: resolves when the dependency is usable, throws (with a reason) when not. */
export type ReadinessCheck = () => Promise<void>
