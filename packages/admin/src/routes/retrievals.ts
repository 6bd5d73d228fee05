import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../env.ts'
import { ApiError } from '../errors.ts'
import { type DenyRule, type ExplainFacts, explainSentences } from '../explain.ts'
import { isCid, parse } from '../validate.ts'

/** The store's retrieval repository, structurally. */
export interface RetrievalsApi {
  list(q: {
    cid?: string
    provider?: string
    status?: string
    limit?: number
    cursor?: string
  }): Promise<{ items: unknown[]; nextCursor: string | null }>
  get(id: string): Promise<unknown | null>
  explain(cid: string): Promise<{ retrievals: ExplainFacts['retrievals']; refusals: ExplainFacts['refusals'] }>
}

/** What is true of a CID now, beside its history (for /cids/:cid/explain). */
export interface CidState {
  isDenied(cid: string): boolean
  isCached(cid: string): Promise<boolean>
  policyVersion(): number
  /** Miner addresses on the deny list with no peer ID yet: providers known only by peer ID are held back. */
  unresolvedDenials?(): readonly string[]
  /** The deny entry that matches the CID now, with its origin (null: none). */
  denial?(cid: string): DenyRule | null
  /** This node's instance-name. */
  instance?: string
}

const query = z
  .object({
    cid: z.string().refine(isCid, { message: 'is not a CID' }).optional(),
    provider: z.string().max(200).optional(),
    status: z.enum(['running', 'success', 'failed']).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
    cursor: z.string().max(200).optional()
  })
  .strict()

export function retrievalRoutes(api: RetrievalsApi, now: CidState) {
  const retrievals = new Hono<AppEnv>()
  retrievals.get('/', async (c) => {
    const q = parse(query, c.req.query(), 'query')
    try {
      return c.json(await api.list(q))
    } catch (err) {
      if ((err as { name?: string }).name === 'InvalidCursorError')
        throw new ApiError('ERR_INVALID_INPUT', `query.cursor: ${(err as Error).message}`)
      throw err
    }
  })
  retrievals.get('/:id', async (c) => {
    const found = await api.get(c.req.param('id'))
    if (found === null) throw new ApiError('ERR_NOT_FOUND', `no retrieval ${c.req.param('id')}`)
    return c.json(found)
  })
  const cids = new Hono<AppEnv>()
  cids.get('/:cid/explain', async (c) => {
    const cid = c.req.param('cid')
    if (!isCid(cid)) throw new ApiError('ERR_INVALID_INPUT', `path: "${cid}" is not a CID`)
    // Read before the history: the rule and the version belong to the same snapshot.
    const policyVersion = now.policyVersion()
    const rule = now.denial?.(cid) ?? null
    const deniedNow = now.isDenied(cid)
    const why = await api.explain(cid)
    const facts: ExplainFacts = {
      cid,
      policyVersion,
      instance: now.instance ?? null,
      rule,
      deniedNow,
      cachedNow: await now.isCached(cid),
      ...(now.unresolvedDenials !== undefined && { unresolvedDenials: now.unresolvedDenials() }),
      ...why
    }
    return c.json({ ...facts, summary: explainSentences(facts) })
  })
  return { '/retrievals': retrievals, '/cids': cids }
}
