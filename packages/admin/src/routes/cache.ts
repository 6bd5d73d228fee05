import { Hono } from 'hono'
import type { AppEnv } from '../env.ts'
import { ApiError } from '../errors.ts'

export interface CacheImporter {
  /** Verifies and adds a CAR's blocks; resolves with what was imported. */
  importCar(
    body: AsyncIterable<Uint8Array>,
    options: { signal?: AbortSignal }
  ): Promise<{ roots: string[]; blocks: number; added: number; bytes: number; denied?: number }>
}

/** POST /api/v1/cache/import: body application/vnd.ipld.car, streamed into the cache. */
export function cacheRoutes(importer: CacheImporter) {
  const app = new Hono<AppEnv>()
  app.post('/import', async (c) => {
    const type = c.req.header('Content-Type') ?? ''
    if (!type.startsWith('application/vnd.ipld.car')) {
      throw new ApiError('ERR_UNSUPPORTED_MEDIA_TYPE', 'send the CAR with Content-Type: application/vnd.ipld.car')
    }
    const body = c.req.raw.body
    if (body === null) throw new ApiError('ERR_INVALID_INPUT', 'empty body: send a CAR file')
    try {
      const result = await importer.importCar(body as unknown as AsyncIterable<Uint8Array>, {
        signal: c.req.raw.signal
      })
      return c.json(result)
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_CAR_INVALID')
        throw new ApiError('ERR_INVALID_INPUT', (err as Error).message, { cause: err })
      throw err
    }
  })
  return app
}
