import { parseFil } from '@autoretrieve/chain'
import { cidKey } from '@autoretrieve/interface'
import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../env.ts'
import { ApiError } from '../errors.ts'
import { cidString, isCid, isProvider, jsonBody, parse, providerString, reason } from '../validate.ts'

type ListName = 'cid-deny' | 'provider-deny' | 'provider-allow'

/** What the routes need of the node's policy (structurally: the app's policy service). */
export interface PolicyApi {
  current(): PolicyView
  apply(
    change:
      | { op: 'add' | 'remove'; list: ListName; values: string[]; reason?: string }
      | {
          op: 'set-miner-config'
          provider: string
          config: {
            retrievalTimeoutMs?: number
            maxConcurrentRetrievals?: number
            maxBytesPerSecond?: number
            /** attoFIL as decimal text, or 'none' for no cap. */
            maxPricePerByte?: string
            maxUnsealPrice?: string
            maxRetrievalCost?: string
          }
        }
      | { op: 'delete-miner-config'; provider: string },
    meta: { origin: 'api'; reason?: string }
  ): Promise<{ version: number }>
  /**
   * Re-read config.yaml and apply it; resolves with the version that made. A file with an error
   * rejects with a ConfigError (code ERR_CONFIG_INVALID, a 400) and changes nothing.
   */
  reload(): Promise<{ version: number }>
  /** This node's instance-name, shown beside the policy. */
  instance?: string
  /** How this instance's config.yaml differs from the stored layer in force (null: it does not). */
  drift?(): unknown
  /** Called after every new snapshot (from any instance): drives the event stream's `policy` events. */
  subscribe?(listener: () => void): () => void
}

/** Where an entry came from: the version that set it, the instance that made it, when, and (config) its file. */
interface EntrySourceView {
  version: number
  instance: string
  at: string
  file?: string
}

export interface PolicyView {
  version: number
  deniedCids: ReadonlyMap<string, { cid: string; origin: string; reason?: string; added?: EntrySourceView }>
  deniedProviders: ReadonlyMap<string, { provider: string; origin: string; reason?: string; added?: EntrySourceView }>
  allowedProviders: ReadonlyMap<string, { provider: string; origin: string; reason?: string; added?: EntrySourceView }>
  defaultMinerConfig: MinerConfigView
  minerConfigs: ReadonlyMap<
    string,
    {
      provider: string
      origin: string
      retrievalTimeoutMs: number
      maxConcurrentRetrievals: number
      maxBytesPerSecond: number
      maxPricePerByte?: bigint
      maxUnsealPrice?: bigint
      maxRetrievalCost?: bigint
      /** A miner address's peer ID from Lotus, or that it has none yet. */
      resolution?: unknown
      added?: EntrySourceView
    }
  >
  retrievalProtocols: ReadonlySet<string>
  /** The change that made this version: origin, instance, summary, reason, when. */
  change?: { version: number; origin: string; instance: string; summary: string; reason?: string; at: string }
  /** The stored config.yaml layer under this version: the version that stored it, instance, file, digest, when. */
  configLayer?: { version: number; instance: string; file: string; digest: string; at: string }
}

interface MinerConfigView {
  retrievalTimeoutMs: number
  maxConcurrentRetrievals: number
  maxBytesPerSecond: number
  /** Price caps in attoFIL; undefined: no cap. */
  maxPricePerByte?: bigint
  maxUnsealPrice?: bigint
  maxRetrievalCost?: bigint
}

/** Caps as attoFIL decimal strings (JSON has no bigint), null for no cap. */
const minerConfigJson = (m: MinerConfigView) => ({
  'retrieval-timeout': formatMs(m.retrievalTimeoutMs),
  'max-concurrent-retrievals': m.maxConcurrentRetrievals,
  'max-bytes-per-second': m.maxBytesPerSecond,
  'max-price-per-byte': m.maxPricePerByte?.toString() ?? null,
  'max-unseal-price': m.maxUnsealPrice?.toString() ?? null,
  'max-retrieval-cost': m.maxRetrievalCost?.toString() ?? null
})

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const durationText = z
  .string()
  .regex(/^(\d+(\.\d+)?(ms|s|m|h))+$/, 'is not a duration such as 30s, 2m30s or 1h')
  .transform((s) => [...s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)].reduce((t, m) => t + Number(m[1]) * UNITS[m[2]], 0))

/**
 * A price cap: attoFIL as an integer (a JSON number only while it is exact) or a string ("0.01 FIL",
 * "10000"), or "none" (also null) for no cap. Stored as decimal text, 'none' kept as is.
 */
const capValue = z.union([z.string(), z.number(), z.null()]).transform((v, ctx) => {
  if (v === null || v === 'none') return 'none'
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    ctx.addIssue({ code: 'custom', message: 'is too large for a JSON number: send it as a string' })
    return z.NEVER
  }
  try {
    const atto = parseFil(String(v))
    if (atto < 0n) throw new Error('must not be negative')
    return atto.toString()
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
    return z.NEVER
  }
})

const minerConfigBody = z
  .object({
    'retrieval-timeout': durationText.optional(),
    'max-concurrent-retrievals': z.number().int().min(0).max(10_000).optional(),
    'max-bytes-per-second': z.number().int().min(0).optional(),
    'max-price-per-byte': capValue.optional(),
    'max-unseal-price': capValue.optional(),
    'max-retrieval-cost': capValue.optional()
  })
  .strict()

export function policyView(p: PolicyView) {
  return {
    version: p.version,
    cidBlacklist: [...p.deniedCids.values()],
    minerBlacklist: [...p.deniedProviders.values()],
    minerWhitelist: [...p.allowedProviders.values()],
    defaultMinerConfig: minerConfigJson(p.defaultMinerConfig),
    minerConfigs: Object.fromEntries(
      [...p.minerConfigs.values()].map((m) => [
        m.provider,
        {
          origin: m.origin,
          ...minerConfigJson(m),
          ...(m.resolution ? { resolution: m.resolution } : {}),
          ...(m.added !== undefined && { added: m.added })
        }
      ])
    ),
    retrievalProtocols: [...p.retrievalProtocols],
    change: p.change ?? null,
    configLayer: p.configLayer ?? null
  }
}

/**
 * What GET /policy and the event stream's `policy` event say about the version in force: the
 * version, the change that made it, the config.yaml layer under it, this node's name, and how
 * this node's own file differs from that layer.
 */
export function policyState(api: PolicyApi) {
  const p = api.current()
  return {
    version: p.version,
    instance: api.instance ?? null,
    change: p.change ?? null,
    configLayer: p.configLayer ?? null,
    configDrift: api.drift?.() ?? null
  }
}

/** A deny/allow list: GET, POST (one or many), DELETE one. */
function listRoutes(api: PolicyApi, list: ListName, key: 'cid' | 'miner', valid: (s: string) => boolean, what: string) {
  const app = new Hono<AppEnv>()
  const listOf = (p: PolicyView) =>
    list === 'cid-deny' ? p.deniedCids : list === 'provider-deny' ? p.deniedProviders : p.allowedProviders
  const entries = () => {
    const p = api.current()
    return { version: p.version, entries: [...listOf(p).values()] }
  }
  // The snapshot keys CIDs by multihash (a CIDv0 and its CIDv1 are one entry), providers as written.
  const listed = (value: string) => listOf(api.current()).has(key === 'cid' ? cidKey(value) : value)
  const one = key === 'cid' ? cidString : providerString
  const body = z.union([
    z.object({ [key]: one, reason }).strict(),
    z.object({ [`${key}s`]: z.array(one).min(1).max(10_000), reason }).strict()
  ])
  app.get('/', (c) => c.json(entries()))
  app.post('/', async (c) => {
    const input = parse(body, await jsonBody(c)) as Record<string, unknown>
    const values = (input[key] !== undefined ? [input[key]] : input[`${key}s`]) as string[]
    const next = await api.apply(
      { op: 'add', list, values, reason: input.reason as string | undefined },
      { origin: 'api', reason: input.reason as string | undefined }
    )
    return c.json({ version: next.version, added: values }, 201)
  })
  app.delete('/:value', async (c) => {
    const value = c.req.param('value')
    if (!valid(value)) throw new ApiError('ERR_INVALID_INPUT', `path: "${value}" ${what}`)
    // Removing what is not listed would store a removal that later hides the same entry added to config.yaml.
    if (!listed(value)) throw new ApiError('ERR_NOT_FOUND', `${value} is not on the ${list} list`)
    const next = await api.apply({ op: 'remove', list, values: [value] }, { origin: 'api' })
    return c.json({ version: next.version, removed: value })
  })
  return app
}

export function policyRoutes(api: PolicyApi) {
  return {
    '/policy': new Hono<AppEnv>().get('/', (c) => c.json({ ...policyView(api.current()), ...policyState(api) })),
    '/blacklist/cids': listRoutes(api, 'cid-deny', 'cid', isCid, 'is not a CID'),
    '/blacklist/miners': listRoutes(
      api,
      'provider-deny',
      'miner',
      isProvider,
      'is neither a peer ID nor a Filecoin address'
    ),
    '/whitelist/miners': listRoutes(
      api,
      'provider-allow',
      'miner',
      isProvider,
      'is neither a peer ID nor a Filecoin address'
    ),
    '/miner-configs': minerConfigRoutes(api),
    '/reload': new Hono<AppEnv>().post('/', async (c) => c.json({ version: (await api.reload()).version }))
  }
}

function minerConfigRoutes(api: PolicyApi) {
  const app = new Hono<AppEnv>()
  const check = (miner: string) => {
    if (miner !== 'default' && !isProvider(miner))
      throw new ApiError('ERR_INVALID_INPUT', `path: "${miner}" is neither a peer ID nor a Filecoin address`)
  }
  app.get('/', (c) => {
    const p = api.current()
    return c.json({
      version: p.version,
      default: minerConfigJson(p.defaultMinerConfig),
      miners: policyView(p).minerConfigs
    })
  })
  app.get('/:miner', (c) => {
    const miner = c.req.param('miner')
    check(miner)
    const p = api.current()
    if (miner === 'default') return c.json({ version: p.version, ...minerConfigJson(p.defaultMinerConfig) })
    const m = p.minerConfigs.get(miner)
    if (m === undefined) throw new ApiError('ERR_NOT_FOUND', `no miner config for ${miner} (it uses the default)`)
    return c.json({ version: p.version, origin: m.origin, ...minerConfigJson(m) })
  })
  app.put('/:miner', async (c) => {
    const miner = c.req.param('miner')
    check(miner)
    const input = parse(minerConfigBody, await jsonBody(c))
    const next = await api.apply(
      {
        op: 'set-miner-config',
        provider: miner,
        config: {
          retrievalTimeoutMs: input['retrieval-timeout'],
          maxConcurrentRetrievals: input['max-concurrent-retrievals'],
          maxBytesPerSecond: input['max-bytes-per-second'],
          maxPricePerByte: input['max-price-per-byte'],
          maxUnsealPrice: input['max-unseal-price'],
          maxRetrievalCost: input['max-retrieval-cost']
        }
      },
      { origin: 'api' }
    )
    return c.json({ version: next.version })
  })
  app.delete('/:miner', async (c) => {
    const miner = c.req.param('miner')
    check(miner)
    if (miner === 'default')
      throw new ApiError('ERR_INVALID_INPUT', 'the default miner config cannot be deleted; PUT new values instead')
    if (!api.current().minerConfigs.has(miner))
      throw new ApiError('ERR_NOT_FOUND', `no miner config for ${miner} (it uses the default)`)
    const next = await api.apply({ op: 'delete-miner-config', provider: miner }, { origin: 'api' })
    return c.json({ version: next.version })
  })
  return app
}
