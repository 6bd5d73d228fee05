/**
 * Default body limit for /api requests. The largest JSON body an operator sends is a CID list;
 * 1 MiB holds about 15,000 CIDs. CAR imports use their own, larger limit.
 */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024

/** Routes whose bodies are streamed and bounded per block instead of as a whole. */
export const STREAMED_BODY_PATHS: ReadonlySet<string> = new Set(['/api/v1/cache/import'])
